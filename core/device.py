"""Choosing the device and the numeric precision. Nothing here assumes CUDA."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from core.errors import DeviceError

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
    """`auto`: bf16 where the hardware has it (CPU, CUDA), else fp16 on CUDA, else fp32."""
    if name not in PRECISION_CHOICES:
        raise DeviceError(
            f"unknown precision {name!r}; choose one of {', '.join(PRECISION_CHOICES)}"
        )
    if name == "auto":
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
