# Latin American Spanish groups and separates numbers as English does (CLDR es-419:
# 250,000 and 4.6), where Django's own Spanish formats are Spain's (250.000, 4,6). The
# browser's toLocaleString("es-419") writes the same, so counts agree on a page. Dates
# and the rest come from Django's Spanish formats.
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
