"""Each treatment's kinds (needles, injection, laser, surgery), so the treatment finder
can honour "no needles", "nothing with lasers" or "without surgery"; thread veins become
a concern of their own (the vein laser's first concern, not a flushed face's).

The kinds of the 33 default treatments are copied here, not imported, so the migration
never changes. A clinic's own treatments keep an empty list until set in the admin.
"""

from django.db import migrations, models

INJECTION = ["injection", "needles"]
NEEDLES = ["needles"]
LASER = ["laser"]
SURGERY = ["surgery"]

KINDS = {
    "botox": INJECTION, "masseter-botox": INJECTION, "sweat-injections": INJECTION, "lip-filler": INJECTION,
    "cheek-filler": INJECTION, "tear-trough-filler": INJECTION, "jawline-filler": INJECTION,
    "dermal-filler": INJECTION, "skin-boosters": INJECTION, "fat-dissolving": INJECTION, "prp-hair": INJECTION,
    # A blood draw and microneedling; threads are placed with needles or cannulas.
    "microneedling": NEEDLES, "rf-microneedling": NEEDLES, "prp-facial": NEEDLES, "thread-lift": NEEDLES,
    # IPL is light rather than laser, but patients who refuse lasers mean it too.
    "laser-hair-removal": LASER, "ipl-photofacial": LASER, "laser-resurfacing": LASER,
    "thread-vein-removal": LASER, "laser-pigmentation": LASER, "tattoo-removal": LASER,
    "rhinoplasty": SURGERY, "blepharoplasty": SURGERY, "facelift": SURGERY, "liposuction": SURGERY,
    "breast-augmentation": SURGERY,
}

# Concerns of the two vein treatments, changed only where the clinic left the defaults.
CONCERNS = {
    "ipl-photofacial": (["redness", "pigmentation", "uneven_tone"], ["redness", "pigmentation", "uneven_tone", "thread_veins"]),
    "thread-vein-removal": (["redness"], ["thread_veins", "redness"]),
}


def set_kinds(apps, schema_editor):
    Procedure = apps.get_model("calculators", "Procedure")
    for procedure in Procedure.objects.filter(slug__in=KINDS):
        procedure.kinds = KINDS[procedure.slug]
        # To patients "BBL" is a Brazilian butt lift, not the BroadBand Light IPL device.
        if procedure.slug == "ipl-photofacial":
            procedure.keywords = [k for k in procedure.keywords if k.lower() != "bbl"]
        old, new = CONCERNS.get(procedure.slug, (None, None))
        if old is not None and procedure.concerns == old:
            procedure.concerns = new
        procedure.save(update_fields=["kinds", "keywords", "concerns"])


class Migration(migrations.Migration):

    dependencies = [
        ("calculators", "0002_default_catalog"),
    ]

    operations = [
        migrations.AddField(
            model_name="procedure",
            name="kinds",
            field=models.JSONField(
                blank=True, default=list,
                help_text="What it involves, for patients who refuse some: needles, injection, laser, surgery "
                          "(an injection also counts as needles).",
            ),
        ),
        migrations.RunPython(set_kinds, migrations.RunPython.noop),
    ]
