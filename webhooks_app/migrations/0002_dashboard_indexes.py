from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks_app", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="webhookevent",
            index=models.Index(fields=["sales_unit", "received_at"], name="webhook_event_unit_time"),
        ),
        migrations.AddIndex(
            model_name="webhookevent",
            index=models.Index(fields=["sales_unit", "status"], name="webhook_event_unit_status"),
        ),
    ]
