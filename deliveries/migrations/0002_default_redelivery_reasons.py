from django.db import migrations

# code, English name, English description, Spanish name, Spanish description
REASONS = [
    (
        "incorrect-asset-type",
        "Incorrect Asset Type",
        "The delivered files are not the asset this request asks for: for example a "
        "trailer delivered to a primary video request, or a stereo mix where a 5.1 mix "
        "was requested. Deliver the asset type named in the request.",
        "Tipo de recurso incorrecto",
        "Los archivos entregados no son el recurso que pide esta solicitud: por ejemplo, "
        "un tráiler entregado en una solicitud de video principal, o una mezcla estéreo "
        "donde se pidió una 5.1. Entregue el tipo de recurso indicado en la solicitud.",
    ),
    (
        "incorrect-timecode",
        "Incorrect Timecode",
        "The start timecode or the timecode track does not match the specification "
        "(for example a program that does not start at 00:00:00:00 or 01:00:00:00, or a "
        "drop-frame/non-drop-frame mismatch). Correct the timecode and deliver again.",
        "Código de tiempo incorrecto",
        "El código de tiempo inicial o la pista de código de tiempo no coinciden con la "
        "especificación (por ejemplo, un programa que no empieza en 00:00:00:00 o "
        "01:00:00:00, o una confusión entre drop-frame y non-drop-frame). Corrija el "
        "código de tiempo y vuelva a entregar.",
    ),
    (
        "incorrect-channel-mapping",
        "Incorrect Channel Mapping",
        "Audio channels are in the wrong order or on the wrong tracks (for example L/R "
        "swapped, or the LFE on the center channel). Map the channels as the "
        "specification lists them and deliver again.",
        "Asignación de canales incorrecta",
        "Los canales de audio están en un orden o en pistas equivocados (por ejemplo, "
        "L/R invertidos o el LFE en el canal central). Asigne los canales como lo indica "
        "la especificación y vuelva a entregar.",
    ),
    (
        "audio-dialogue-out-of-sync",
        "Audio/Dialogue Out of Sync",
        "Audio or dialogue drifts from the picture or is offset by a constant amount. "
        "Check the sync against the picture reference from start to end and deliver a "
        "corrected file.",
        "Audio/diálogo fuera de sincronía",
        "El audio o el diálogo se desfasan de la imagen o tienen un desplazamiento "
        "constante. Revise la sincronía contra la referencia de imagen de principio a "
        "fin y entregue un archivo corregido.",
    ),
    (
        "video-decode-errors",
        "Video Decode Errors",
        "The video could not be decoded cleanly: corrupt frames, a truncated file or an "
        "unsupported codec profile. Re-export from the source, verify the file plays "
        "through, and deliver again.",
        "Errores de decodificación de video",
        "El video no se pudo decodificar correctamente: fotogramas dañados, un archivo "
        "truncado o un perfil de códec no admitido. Vuelva a exportar desde la fuente, "
        "compruebe que el archivo se reproduce completo y vuelva a entregar.",
    ),
    (
        "missing-asset",
        "Missing Asset",
        "One or more files that belong to this request were not delivered (for example "
        "missing reels, frames of an image sequence or a companion file). Deliver the "
        "missing files.",
        "Recurso faltante",
        "No se entregaron uno o más archivos de esta solicitud (por ejemplo, rollos, "
        "fotogramas de una secuencia de imágenes o un archivo complementario). Entregue "
        "los archivos que faltan.",
    ),
    (
        "creative-change-needed",
        "Creative Change Needed",
        "The content itself must change: an edit, a graphics or a mix update asked for "
        "by the creative team. Your studio contact sends the notes; deliver the updated "
        "version.",
        "Se necesita un cambio creativo",
        "El contenido en sí debe cambiar: una edición, un gráfico o una mezcla que pidió "
        "el equipo creativo. Su contacto del estudio envía las notas; entregue la versión "
        "actualizada.",
    ),
    (
        "timed-text-errors",
        "Timed Text Errors",
        "The subtitle or caption file has errors: invalid TTML, a wrong or missing "
        "language tag, overlapping or mistimed events, or text that does not match the "
        "audio. Correct the file and deliver again.",
        "Errores de texto temporizado",
        "El archivo de subtítulos o de subtítulos para sordos tiene errores: TTML no "
        "válido, una etiqueta de idioma incorrecta o ausente, eventos superpuestos o mal "
        "sincronizados, o texto que no coincide con el audio. Corrija el archivo y vuelva "
        "a entregar.",
    ),
    (
        "other",
        "Other",
        "A reason not listed here. Your studio contact explains it in the note or by "
        "message; deliver again once it is addressed.",
        "Otro",
        "Un motivo que no figura en esta lista. Su contacto del estudio lo explica en la "
        "nota o por mensaje; vuelva a entregar cuando esté resuelto.",
    ),
]


def add_reasons(apps, schema_editor):
    Reason = apps.get_model("deliveries", "RedeliveryReason")
    for order, (code, name, description, name_es, description_es) in enumerate(REASONS):
        Reason.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "name_es": name_es,
                "description_es": description_es,
                "order": order * 10,
                "active": True,
            },
        )


def remove_reasons(apps, schema_editor):
    Reason = apps.get_model("deliveries", "RedeliveryReason")
    Reason.objects.filter(code__in=[r[0] for r in REASONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("deliveries", "0001_initial")]

    operations = [migrations.RunPython(add_reasons, remove_reasons)]
