"""PLACEHOLDER — replaced by the alarms behaviour."""


def install(cloud):
    pass
