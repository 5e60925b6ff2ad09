# Home Assistant aliases voluptuous to probatio at runtime; type-check it as such.
from probatio import *
