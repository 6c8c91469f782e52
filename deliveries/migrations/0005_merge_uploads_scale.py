# Joins the tus uploads (0003) and the scale work (0004), which were built side by side.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("deliveries", "0003_uploads"),
        ("deliveries", "0004_scale"),
    ]

    operations = []
