"""The bottom layer: what every package of the assistant shares, and nothing else.

`core` imports none of the other packages; `nlu`, `knowledge`, `routing` and `bot` may
all import it (tests/test_layers.py keeps it so). It holds:

- `core.constants`: every slot, intent, entity, action, event and metadata key, and the
  values with a meaning across packages (help-center outcomes, routing actions,
  priorities, handoff statuses);
- `core.conversation`: the one typed reading of a tracker's events (`Conversation`,
  `Turn`), for distress, routing, the handoff summary, transcripts and tone;
- `core.emotion`: `EmotionScores`, as the scorer writes them and every reader reads them;
- `core.settings`: the runtime settings (environment and `.env`);
- `core.database` and `core.migrations`: database URLs, engines and schema migrations;
- `core.paths` and `core.errors`: where files are, and the base errors.

Importing `core` is cheap: no model, no database, no Rasa.
"""

from core.conversation import Conversation, Message, Turn
from core.emotion import EmotionScores
from core.errors import ConfigurationError, SupportError
from core.paths import PROJECT_ROOT
from core.settings import Settings

__all__ = [
    "PROJECT_ROOT",
    "ConfigurationError",
    "Conversation",
    "EmotionScores",
    "Message",
    "Settings",
    "SupportError",
    "Turn",
]
