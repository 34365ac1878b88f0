"""PLACEHOLDER — replaced by the mail behaviour."""


def install(cloud):
    pass
