"""`EmotionHeads`: fine-tuned top layers and three heads over the shared lower layers.

Input: the encoder's states after its branch layer (`Encoding.branch`; 2 for the
committed model, recorded as `branch_layer` in its config). The remaining transformer
layers (3-6), initialised from MiniLM's and fine-tuned for emotion, then mean pooling and
three heads: sentiment (3-way softmax), frustration and urgency (sigmoids). One
temperature per head, fitted on held-out calibration data, turns logits into calibrated
probabilities.

The artifact (`nlu/artifacts/emotion/`) holds the fine-tuned layers and heads in
float16 safetensors, plus `config.json`, `metrics.json` and the data versions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nlu.artifact import ARTIFACT_DIR, CONFIG_FILE, WEIGHTS_FILE
from nlu.errors import ArtifactError, ModelNotFoundError
from nlu.minilm import Config, Layer, attention_bias, mean_pool

TASKS = ("sentiment", "frustration", "urgency")


class EmotionHeads(nn.Module):
    def __init__(
        self, config: Config, layers: int = 2, auxiliary_labels: int = 0, branch_layer: int = 4
    ) -> None:
        super().__init__()
        self.minilm_config = config
        # The heads read MiniLM's states after this many layers and run their own on top.
        self.branch_layer = branch_layer
        self.layers = nn.ModuleList([Layer(config) for _ in range(layers)])
        self.dropout = nn.Dropout(0.1)
        self.sentiment = nn.Linear(config.hidden, 3)
        self.frustration = nn.Linear(config.hidden, 1)
        self.urgency = nn.Linear(config.hidden, 1)
        # Training only: the 28 GoEmotions labels as an auxiliary task (not saved).
        self.emotions = nn.Linear(config.hidden, auxiliary_labels) if auxiliary_labels else None
        # Calibration temperatures (logits are divided by them); 1.0 = uncalibrated.
        self.temperature: torch.Tensor
        self.register_buffer("temperature", torch.ones(3))

    def pooled(self, branch: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        bias = attention_bias(mask)
        x = branch
        for layer in self.layers:
            x = layer(x, bias)
        return mean_pool(x, mask)

    def logits(self, branch: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.logits_of_pooled(self.pooled(branch, mask))

    def logits_of_pooled(self, pooled: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.dropout(pooled)
        out = {
            "sentiment": self.sentiment(h),
            "frustration": self.frustration(h).squeeze(-1),
            "urgency": self.urgency(h).squeeze(-1),
        }
        if self.emotions is not None:
            out["emotions"] = self.emotions(h)
        return out

    def probabilities(self, branch: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.probabilities_of_pooled(self.pooled(branch, mask))

    def probabilities_of_pooled(self, pooled: torch.Tensor) -> dict[str, torch.Tensor]:
        raw = self.logits_of_pooled(pooled)
        t = self.temperature
        return {
            "sentiment": (raw["sentiment"] / t[0]).softmax(dim=-1),
            "frustration": torch.sigmoid(raw["frustration"] / t[1]),
            "urgency": torch.sigmoid(raw["urgency"] / t[2]),
        }

    def forward(self, branch: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """[n, 5]: P(negative), P(neutral), P(positive), P(frustrated), P(urgent)."""
        return self.scores_and_pooled(branch, mask)[0]

    def scores_and_pooled(
        self, branch: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """([n, 5] probabilities as `forward`, [n, 384] the pooled state the heads read:
        the context model's view of the message, `nlu.context_model`)."""
        pooled = self.pooled(branch, mask)
        p = self.probabilities_of_pooled(pooled)
        scores = torch.cat(
            [p["sentiment"], p["frustration"].unsqueeze(-1), p["urgency"].unsqueeze(-1)], dim=-1
        )
        return scores, pooled

    @classmethod
    def from_minilm(
        cls, encoder_layers: nn.ModuleList, config: Config, start: int, auxiliary_labels: int = 0
    ) -> EmotionHeads:
        """New heads whose layers start as copies of the encoder's layers `start`, `start+1`…"""
        heads = cls(
            config,
            layers=len(encoder_layers) - start,
            auxiliary_labels=auxiliary_labels,
            branch_layer=start,
        )
        for mine, theirs in zip(heads.layers, encoder_layers[start:], strict=True):
            mine.load_state_dict(theirs.state_dict())
        return heads

    def save(self, directory: Path, extra: dict[str, Any]) -> None:
        from safetensors.torch import save_file

        directory.mkdir(parents=True, exist_ok=True)
        state = {
            k: v.detach().to(torch.float16).contiguous()
            for k, v in self.state_dict().items()
            if not k.startswith("emotions.")
        }
        state["temperature"] = self.temperature.detach().to(torch.float32).contiguous()
        save_file(state, str(directory / WEIGHTS_FILE))
        config = {
            "layers": len(self.layers),
            "minilm": self.minilm_config.__dict__,
            **extra,
            "branch_layer": self.branch_layer,
        }
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path = ARTIFACT_DIR) -> EmotionHeads:
        from safetensors.torch import load_file

        weights, config_path = directory / WEIGHTS_FILE, directory / CONFIG_FILE
        if not weights.is_file() or not config_path.is_file():
            raise ModelNotFoundError(
                f"No emotion model in {directory} (expected {WEIGHTS_FILE} and {CONFIG_FILE}). "
                "Restore it from git, or train one with `make train-emotion`."
            )
        try:
            config = json.loads(config_path.read_text())
            minilm = Config.__new__(Config)
            minilm.__dict__.update(config["minilm"])
            layers = int(config["layers"])
            branch_layer = int(config.get("branch_layer", minilm.layers - layers))
            if branch_layer + layers != minilm.layers:
                raise ValueError(
                    f"branch_layer {branch_layer} + {layers} layers != MiniLM's {minilm.layers}"
                )
            heads = cls(minilm, layers=layers, branch_layer=branch_layer)
            state = {k: v.to(torch.float32) for k, v in load_file(str(weights)).items()}
            heads.load_state_dict(state)
        except (KeyError, ValueError, RuntimeError, OSError) as e:
            raise ArtifactError(
                f"The emotion model in {directory} cannot be loaded ({e.__class__.__name__}: "
                f"{e}). Restore it from git or retrain with `make train-emotion`."
            ) from e
        heads.eval()
        return heads
