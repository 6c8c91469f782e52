# Latin American Spanish groups and separates numbers as English does (CLDR es-419:
# 250,000 and 4.6), where Django's own Spanish formats are Spain's (250.000, 4,6). The
# browser's toLocaleString("es-419") writes the same, so counts agree on a page.
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

# One date format and one date-and-time format across the portal, as in English
# (portal/formats/en): "8 dic 2026", "1 dic 2026, 18:32".
DATE_FORMAT = "j b Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "j b Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
