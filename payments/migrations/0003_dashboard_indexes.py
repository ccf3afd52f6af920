from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0002_payments_operations_rules"),
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="checkin",
            index=models.Index(fields=["sales_unit", "initiated_at"], name="checkin_unit_time"),
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(fields=["merchant", "created_at"], name="payment_merchant_time"),
        ),
    ]
