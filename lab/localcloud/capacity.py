"""PLACEHOLDER — replaced by the capacity behaviour."""


def install(cloud):
    pass
