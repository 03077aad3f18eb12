"""A readonly app keeps no data of its own: it adds no settings to the common ones.

(A crud app's version of this module holds its database settings.)
"""

from pydantic_settings import BaseSettings


class ExtraSettings(BaseSettings):
    pass
