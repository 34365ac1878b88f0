"""PLACEHOLDER — replaced by the events behaviour."""


def install(cloud):
    pass
