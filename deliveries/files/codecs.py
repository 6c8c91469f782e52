"""FFmpeg's codec names as people write them: one table for what a spec expects and
what inspection found."""

CODEC_NAMES = {
    "h264": "H.264",
    "hevc": "HEVC",
    "prores": "ProRes",
    "mpeg4": "MPEG-4 Part 2",
    "mpeg2video": "MPEG-2",
    "dnxhd": "DNxHD/HR",
    "av1": "AV1",
    "vp9": "VP9",
    "jpeg2000": "JPEG 2000",
    "aac": "AAC",
    "ac3": "Dolby Digital",
    "eac3": "Dolby Digital Plus",
    "truehd": "Dolby TrueHD",
    "mp3": "MP3",
    "flac": "FLAC",
    "opus": "Opus",
}
