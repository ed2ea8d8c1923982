# Issue 18 (emergency access): events made under a grant are marked, grants are HIGH severity.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0006_demographics_read_action'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditevent',
            name='emergency',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='severity',
            field=models.CharField(choices=[('NORMAL', 'Normal'), ('HIGH', 'High')], default='NORMAL', max_length=8),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('RECORD_READ', 'Health record read'), ('RECORD_UPDATE', 'Health record updated'), ('ANNOTATION_READ', 'Annotations read'), ('ANNOTATION_ADD', 'Annotation added'), ('ANNOTATION_RETRACT', 'Annotation retracted'), ('DEMOGRAPHICS_READ', 'Demographics read'), ('ASSIGNMENT_CREATE', 'Doctor assigned'), ('ASSIGNMENT_END', 'Assignment ended'), ('PATIENT_REGISTER', 'Patient registered'), ('LOGIN_SUCCESS', 'Login succeeded'), ('LOGIN_FAILURE', 'Login failed'), ('EMERGENCY_ACCESS_GRANT', 'Emergency access granted'), ('EMERGENCY_ACCESS_REVOKE', 'Emergency access ended early'), ('EMERGENCY_ACCESS_REVIEW', 'Emergency access reviewed')], max_length=32),
        ),
    ]
