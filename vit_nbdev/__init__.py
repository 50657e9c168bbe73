__version__ = "0.1.0"

# The hybrid (notebook 07) registers its architecture and presets with vit_nbdev.model when it is imported, as timm's
# model files register theirs; importing it here makes create_model('vit_base_r50_s16_384') work from any import.
from . import hybrid
