"""Declared exercises, one module per lesson: ``from lab.exercises import sns_alerts_topic as ex``."""
