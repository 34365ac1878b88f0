"""PLACEHOLDER — replaced by the ttl behaviour."""


def install(cloud):
    pass
