"""PLACEHOLDER — replaced by the runtime behaviour."""


def install(cloud):
    pass
