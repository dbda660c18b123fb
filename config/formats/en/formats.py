"""The back office's English dates: day, short month, year ("22 Nov 2026").

Django's own English formats are American ("Nov. 22, 2026", "11/22/2026"); the
staff work in several countries, so English pages use a day-first form nobody
misreads. Other languages keep Django's formats for their locale.
"""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
