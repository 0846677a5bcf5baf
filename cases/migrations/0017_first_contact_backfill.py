"""Fill Measure.first_contact_on from the one definition (cases.files.selectors.
first_contact), in one UPDATE per service time zone, on the historical models."""

from django.db import migrations

from cases.files.contacts import refresh


def backfill(apps, schema_editor):
    measures = apps.get_model("measures", "Measure").objects.using(schema_editor.connection.alias)
    refresh(
        measures.all(),
        apps.get_model("cases", "Convocation").objects,
        apps.get_model("cases", "Interview").objects,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0016_person_merges"),
        ("measures", "0008_measure_first_contact_on"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
