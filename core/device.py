"""Choosing the device and the numeric precision. Nothing here assumes CUDA."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import torch

from core.errors import DeviceError

log = logging.getLogger(__name__)

DeviceName = Literal["auto", "cuda", "mps", "cpu"]
PrecisionName = Literal["auto", "fp32", "bf16", "fp16"]

DEVICE_CHOICES: tuple[str, ...] = ("auto", "cuda", "mps", "cpu")
PRECISION_CHOICES: tuple[str, ...] = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where and how a model runs.

    `dtype` is the autocast type (None for plain fp32); `channels_last` the memory layout.
    """

    device: torch.device
    precision: str
    channels_last: bool

    @property
    def dtype(self) -> torch.dtype | None:
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)

    def describe(self) -> str:
        return f"{self.device.type.upper()} {self.precision}"


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` picks CUDA, then MPS, then CPU; an explicit choice is honoured or refused."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                "CUDA was asked for, but this machine has no usable NVIDIA GPU "
                "(or this PyTorch build has no CUDA support); choose 'auto' or 'cpu'"
            )
        return torch.device(name)
    if name == "mps":
        if not mps_available():
            raise DeviceError("Apple MPS was asked for, but it is not available on this machine")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise DeviceError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)}")


def cpu_has_fast_bf16() -> bool:
    """True where the CPU computes bf16 natively (AVX512-BF16 or AMX)."""
    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        check = getattr(cpu, probe, None)
        if check is not None and check():
            return True
    return False


def bf16_supported(device: torch.device) -> bool:
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return cpu_has_fast_bf16()
    return False


def resolve_precision(name: str, device: torch.device) -> str:
    """`auto`: on a CPU with native bf16, whichever of fp32 and bf16 measures faster here
    (`measure_fastest_precision`, a fraction of a second); on CUDA bf16 where the GPU has it,
    else fp16; elsewhere fp32."""
    if name not in PRECISION_CHOICES:
        raise DeviceError(
            f"unknown precision {name!r}; choose one of {', '.join(PRECISION_CHOICES)}"
        )
    if name == "auto":
        if device.type == "cpu":
            if not cpu_has_fast_bf16():
                return "fp32"
            choice = measure_fastest_precision(device)
            log.info("precision measured on the CPU: %s (%s)", choice.precision, choice.seconds)
            return choice.precision
        if bf16_supported(device):
            return "bf16"
        return "fp16" if device.type == "cuda" else "fp32"
    if name == "bf16" and device.type == "mps":
        raise DeviceError("bf16 is not supported on Apple MPS; choose fp32 or fp16")
    if name == "fp16" and device.type == "cpu":
        raise DeviceError("fp16 is slow and inexact on the CPU; choose fp32 or bf16")
    return name


def resolve_placement(device: str = "auto", precision: str = "auto") -> Placement:
    dev = resolve_device(device)
    prec = resolve_precision(precision, dev)
    # channels_last pays off for the convolutions on CPU (oneDNN) and with CUDA tensor cores.
    channels_last = dev.type in ("cpu", "cuda")
    return Placement(device=dev, precision=prec, channels_last=channels_last)


@dataclass(frozen=True, kw_only=True)
class PrecisionChoice:
    """The precision that measured fastest on a device, and the seconds each candidate took."""

    precision: str
    seconds: Mapping[str, float]


def candidate_precisions(device: torch.device) -> tuple[str, ...]:
    """The precisions worth trying on `device`: fp32, plus bf16 and fp16 where they exist."""
    found = ["fp32"]
    if bf16_supported(device):
        found.append("bf16")
    if device.type == "cuda":
        found.append("fp16")
    return tuple(found)


def measure_fastest_precision(
    device: torch.device | str = "cpu",
    *,
    channels: int = 128,
    size: int = 64,
    repeats: int = 4,
    margin: float = 0.85,
) -> PrecisionChoice:
    """Time a slice of CodeFormer's generator at each candidate precision; pick the fastest.

    The workload is the generator's own blocks in the forms `decode` runs: a residual block
    (GroupNorm, swish, 3x3 convolutions) and an upsampling (a transposed convolution), with
    `channels` channels on a `size` x `size` map, channels_last, batch 1, under autocast (about
    0.3 s in all on a 2-core CPU). A reduced precision is chosen only when it takes less than
    `margin` times the fp32 time, since it costs a little accuracy. Every candidate's best time
    is in `seconds`. Deciding by measuring, not by CPU flags: a CPU may compute bf16 natively
    and still run it slower than fp32 (or run one kind of convolution fast and another slowly).
    """
    from core.net.blocks import ResBlock, Upsample

    dev = torch.device(device)
    layout = torch.channels_last if dev.type in ("cpu", "cuda") else torch.contiguous_format
    generator = torch.Generator(device="cpu").manual_seed(0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        block = ResBlock(channels, channels, groups=32).to(dev).eval()
        upsample = Upsample(channels).to(dev).eval()
    block = block.to(memory_format=layout)
    upsample = upsample.to(memory_format=layout)
    x = torch.randn(1, channels, size, size, generator=generator).to(dev, memory_format=layout)

    def step() -> torch.Tensor:
        return upsample.infer(block.infer(x))

    candidates = candidate_precisions(dev)
    seconds = dict.fromkeys(candidates, float("inf"))
    with torch.inference_mode():
        # Rounds interleave the candidates, so a busy machine slows them alike; the first round
        # builds the kernels and is not counted.
        for round_index in range(repeats + 1):
            for precision in candidates:
                dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
                with torch.autocast(device_type=dev.type, dtype=dtype, enabled=dtype is not None):
                    _synchronize(dev)
                    started = time.perf_counter()
                    step()
                    _synchronize(dev)
                    elapsed = time.perf_counter() - started
                if round_index > 0:
                    seconds[precision] = min(seconds[precision], elapsed)
    fastest = min(seconds, key=seconds.__getitem__)
    if fastest != "fp32" and seconds[fastest] >= margin * seconds["fp32"]:
        fastest = "fp32"
    return PrecisionChoice(precision=fastest, seconds=seconds)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
