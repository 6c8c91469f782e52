# One date format and one date-and-time format across the portal (the due date, the
# file table, the side panel, the History): Django's English defaults mix three
# ("Dec. 8, 2026", "12/01/2026 6:29 p.m.", "Dec. 1, 2026, 6:32 p.m.").
DATE_FORMAT = "M j, Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "M j, Y, g:i A"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
