"""EndpointResult.set_apart: the login's rows, set apart from the endpoints under test.

The run lists compute their worst p95 in one query, which cannot read the plan snapshot's
JSON; the field is filled for the runs stored before it from that snapshot (an endpoint
marked ``is_login``, unless the stored login says ``under_test``).
"""

from django.db import migrations, models


def mark_logins(apps, schema_editor):
    Run = apps.get_model("perftest", "Run")
    EndpointResult = apps.get_model("perftest", "EndpointResult")
    for run in Run.objects.only("pk", "config").iterator():
        config = run.config if isinstance(run.config, dict) else {}
        login = config.get("login")
        if isinstance(login, dict) and login.get("under_test"):
            continue
        endpoints = config.get("endpoints")
        names = [
            e["name"]
            for e in (endpoints if isinstance(endpoints, list) else ())
            if isinstance(e, dict) and e.get("is_login") and isinstance(e.get("name"), str)
        ]
        if names:
            EndpointResult.objects.filter(run=run, name__in=names).update(set_apart=True)


class Migration(migrations.Migration):
    dependencies = [
        ("perftest", "0012_server_timing_capacity"),
    ]

    operations = [
        migrations.AddField(
            model_name="endpointresult",
            name="set_apart",
            field=models.BooleanField(
                default=False,
                help_text="The login, set apart from the endpoints under test (its password "
                "hash is slow on purpose): left out of the run lists' worst p95 unless LOGIN "
                "UNDER_TEST",
            ),
        ),
        migrations.RunPython(mark_logins, migrations.RunPython.noop),
    ]
