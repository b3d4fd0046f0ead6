"""Generate freestep's reference trajectory fixtures from the official Python optimizers.

This script drives the official implementations (torch.optim SGD/Adam/AdamW, schedulefree's
SGDScheduleFree and AdamWScheduleFree, prodigyopt's Prodigy, dadaptation, madgrad, momo-opt)
in float64 on the CPU, step by
step, and writes what they did as JSON fixtures in the format described by the conformance
schema (schema version 1).  freestep's conformance runner replays these files and compares its
own trajectories against them.

Two kinds of problem are used:

* open loop (T = 60): the gradients are given, a fixed direction plus seeded noise, with
  all-zero gradients at some steps and gradients 1e3 times larger at others;
* closed loop (T = 100): full-batch L2-regularised logistic regression on a synthetic,
  seeded 64x8 data set, with the gradient taken at the current (train-mode) parameters.

Every fixture also carries a sensitivity estimate: the same run repeated with x0 (and, in the
open loop, every gradient) perturbed by a relative 1e-12.

Everything is deterministic: each fixture draws its random numbers from a seed derived from
its own file name with zlib.crc32, so adding or removing a fixture leaves the others unchanged.

Setting up the virtualenv (kept outside the repository):

    python3 -m venv /root/fsvenv
    /root/fsvenv/bin/pip install torch schedulefree==1.4.1 prodigyopt==1.1.2 \
        dadaptation==3.2 madgrad==1.3 mechanic-pytorch==0.0.1 momo-opt==0.1.0 numpy

Running it from the repository root:

    /root/fsvenv/bin/python tests/conformance/generate.py [--out DIR] [--only OPTIMIZER]...

The default output directory is tests/conformance/fixtures/ (next to this script).
"""

import argparse
import contextlib
import copy
import importlib.metadata
import io
import json
import math
import os
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import dadaptation
import madgrad
import mechanic_pytorch
import momo
import prodigyopt
import schedulefree
import torch

SCHEMA_VERSION = 1
OPEN_LOOP_STEPS = 60
CLOSED_LOOP_STEPS = 100
RELATIVE_PERTURBATION = 1e-12
BIG_GRAD_FACTOR = 1e3
NOISE_SCALE = 0.5

# The closed-loop problem: L2-regularised logistic regression, bias not regularised.
N_SAMPLES = 64
N_FEATURES = 8
L2 = 0.01
DATASET_SEED_NAME = "freestep-logistic-64x8"

# Tensor layouts for the open-loop problems.  None of them is the (5,5),(12) layout of the
# public fixtures; a fixture picks one from its seed, so both 2- and 3-tensor sets occur.
SHAPE_SETS = (
    ((4, 6), (7,), (3, 2, 2)),
    ((3, 5), (9,)),
    ((6, 4), (11,)),
    ((2, 3, 4), (5,), (1, 6)),
)

SF_EVAL_COPY = "deepcopy(params, optimizer) then eval() on the copy"
SF_EVAL_LIVE = "eval() then train() on the live optimizer after every step; eval_params read after eval()"


@dataclass(frozen=True)
class OptimizerInfo:
    """How to build one official optimizer and what to record from it."""

    official_class: str
    package: str
    factory: Callable
    scalar_keys: Optional[tuple] = None
    schedule_free: bool = False
    # Reads the scalars from the optimizer object instead of param_groups[0].
    scalar_reader: Optional[Callable] = None
    # The step takes the loss: step(loss=torch.tensor(loss)).
    needs_loss: bool = False
    # Mechanic: the wrapped class's name; the factory then takes mechanize_kwargs.
    base_optimizer: Optional[str] = None


def mechanic_scalars(optimizer):
    """Mechanic keeps its scale in optimizer.state['_mechanic']."""
    state = optimizer.state["_mechanic"]
    return {"s_sum": float(torch.sum(state["s"])), "s": state["s"].tolist(),
            "iter_count": state["iter_count"]}


def mechanic_info(base_name, base_class):
    """A Mechanic entry: mechanize(base_class, **case.mechanize_kwargs)."""
    return OptimizerInfo(
        f"mechanic_pytorch.mechanize({base_name})", "mechanic-pytorch",
        lambda tensors, mechanize_kwargs, **kw: mechanic_pytorch.mechanize(
            base_class, **mechanize_kwargs)(tensors, **kw),
        scalar_keys=("s_sum", "s", "iter_count"), scalar_reader=mechanic_scalars,
        base_optimizer=base_name)


def momo_scalars(optimizer):
    """MoMo keeps its lower bound, loss average and step count on the optimizer itself."""
    return {"lb": float(optimizer.lb), "loss_avg": float(optimizer.loss_avg),
            "number_steps": optimizer._number_steps}


OPTIMIZERS = {
    "torch-sgd": OptimizerInfo("torch.optim.SGD", "torch", torch.optim.SGD),
    "torch-adam": OptimizerInfo("torch.optim.Adam", "torch", torch.optim.Adam),
    "torch-adamw": OptimizerInfo("torch.optim.AdamW", "torch", torch.optim.AdamW),
    "torch-adagrad": OptimizerInfo("torch.optim.Adagrad", "torch", torch.optim.Adagrad),
    "torch-rmsprop": OptimizerInfo("torch.optim.RMSprop", "torch", torch.optim.RMSprop),
    "madgrad": OptimizerInfo("madgrad.MADGRAD", "madgrad", madgrad.MADGRAD),
    "mirror-madgrad": OptimizerInfo(
        "madgrad.MirrorMADGRAD", "madgrad", madgrad.MirrorMADGRAD),
    "dadapt-sgd": OptimizerInfo(
        "dadaptation.DAdaptSGD", "dadaptation", dadaptation.DAdaptSGD,
        scalar_keys=("d", "k", "numerator_weighted", "g0_norm")),
    "dadapt-adan": OptimizerInfo(
        "dadaptation.DAdaptAdan", "dadaptation", dadaptation.DAdaptAdan,
        scalar_keys=("d", "k", "gsq_weighted")),
    "dadapt-adagrad": OptimizerInfo(
        "dadaptation.DAdaptAdaGrad", "dadaptation", dadaptation.DAdaptAdaGrad,
        scalar_keys=("d", "k", "gsq_weighted", "sksq_weighted", "skl1")),
    "dadapt-lion": OptimizerInfo(
        "dadaptation.DAdaptLion", "dadaptation", dadaptation.DAdaptLion,
        scalar_keys=("d", "k", "numerator_weighted")),
    "dadapt-adam": OptimizerInfo(
        "dadaptation.DAdaptAdam", "dadaptation", dadaptation.DAdaptAdam,
        scalar_keys=("d", "k", "numerator_weighted")),
    "sgd-schedulefree": OptimizerInfo(
        "schedulefree.SGDScheduleFree", "schedulefree", schedulefree.SGDScheduleFree,
        scalar_keys=("k", "scheduled_lr", "lr_max", "weight_sum"), schedule_free=True),
    "adamw-schedulefree": OptimizerInfo(
        "schedulefree.AdamWScheduleFree", "schedulefree", schedulefree.AdamWScheduleFree,
        scalar_keys=("k", "scheduled_lr", "lr_max", "weight_sum"), schedule_free=True),
    "radam-schedulefree": OptimizerInfo(
        "schedulefree.RAdamScheduleFree", "schedulefree", schedulefree.RAdamScheduleFree,
        scalar_keys=("k", "scheduled_lr", "lr_max", "weight_sum"), schedule_free=True),
    "prodigy": OptimizerInfo(
        "prodigyopt.Prodigy", "prodigyopt", prodigyopt.Prodigy,
        scalar_keys=("d", "d_hat", "d_max", "d_numerator", "d_denom", "k")),
    "momo": OptimizerInfo(
        "momo.Momo", "momo-opt", momo.Momo, scalar_keys=("lb", "loss_avg", "number_steps"),
        scalar_reader=momo_scalars, needs_loss=True),
    "momo-adam": OptimizerInfo(
        "momo.MomoAdam", "momo-opt", momo.MomoAdam,
        scalar_keys=("lb", "loss_avg", "number_steps"), scalar_reader=momo_scalars,
        needs_loss=True),
    "mechanic-sgd": mechanic_info("torch.optim.SGD", torch.optim.SGD),
    "mechanic-adamw": mechanic_info("torch.optim.AdamW", torch.optim.AdamW),
    "mechanic-adam": mechanic_info("torch.optim.Adam", torch.optim.Adam),
}

LOSS_PASSED_AS = "step(loss=torch.tensor(losses[t]))"


@dataclass(frozen=True)
class Case:
    """One fixture: an optimizer, a setting name, the constructor kwargs and the protocol."""

    optimizer: str
    setting: str
    hyperparameters: dict = field(default_factory=dict)
    kind: str = "open_loop"
    shapes: Optional[tuple] = None
    zero_first_steps: int = 0
    eval_train_each_step: bool = False
    zero_x0_tensor: Optional[int] = None
    mechanize_kwargs: Optional[dict] = None

    @property
    def name(self):
        return f"{self.optimizer}-{self.setting}"


def open_case(optimizer, setting, **kwargs):
    """An open-loop case; keyword arguments are the constructor's hyperparameters."""
    return Case(optimizer, setting, kwargs)


def closed_case(optimizer, setting, **kwargs):
    """A closed-loop (logistic regression) case."""
    return Case(optimizer, setting, kwargs, kind="closed_loop")


def mechanic_case(optimizer, setting, mechanize_kwargs=None, kind="open_loop", **kwargs):
    """A Mechanic case: kwargs go to the base optimizer, mechanize_kwargs to mechanize."""
    return Case(optimizer, setting, kwargs, kind=kind, mechanize_kwargs=mechanize_kwargs or {})


def zero_first_case(optimizer, **kwargs):
    """An open-loop case whose first three gradient rows are all zero."""
    return Case(optimizer, "zero-first-grads", kwargs, zero_first_steps=3)


def eval_train_case(optimizer, **kwargs):
    """A Schedule-Free case that calls eval() then train() on the live optimizer each step."""
    return Case(optimizer, "evaltrain-each-step", kwargs, eval_train_each_step=True)


CASES = [
    # torch.optim.SGD: every momentum branch, coupled weight decay and maximize.
    open_case("torch-sgd", "default"),
    open_case("torch-sgd", "momentum", momentum=0.9),
    open_case("torch-sgd", "momentum-dampening", momentum=0.9, dampening=0.5),
    open_case("torch-sgd", "nesterov", momentum=0.9, nesterov=True),
    open_case("torch-sgd", "weight-decay", momentum=0.9, weight_decay=0.1),
    open_case("torch-sgd", "maximize", maximize=True),
    open_case("torch-sgd", "maximize-weight-decay", maximize=True, momentum=0.9, weight_decay=0.1),
    zero_first_case("torch-sgd", momentum=0.9),
    closed_case("torch-sgd", "closed-momentum", lr=0.5, momentum=0.9),
    # torch.optim.Adam: coupled (L2) weight decay, AMSGrad, maximize, betas and eps.
    open_case("torch-adam", "default"),
    open_case("torch-adam", "amsgrad", amsgrad=True),
    open_case("torch-adam", "weight-decay", weight_decay=0.1),
    open_case("torch-adam", "maximize", maximize=True),
    open_case("torch-adam", "betas", betas=(0.8, 0.99)),
    open_case("torch-adam", "eps", eps=1e-3),
    zero_first_case("torch-adam"),
    open_case("torch-adam", "amsgrad-weight-decay", amsgrad=True, weight_decay=0.1),
    closed_case("torch-adam", "closed-loop", lr=0.05),
    # torch.optim.AdamW: decoupled weight decay.
    open_case("torch-adamw", "default"),
    open_case("torch-adamw", "amsgrad", amsgrad=True),
    open_case("torch-adamw", "weight-decay-0.2", weight_decay=0.2),
    open_case("torch-adamw", "maximize", maximize=True),
    zero_first_case("torch-adamw"),
    closed_case("torch-adamw", "closed-loop", lr=0.05),
    # torch.optim.Adagrad: lr decay, the accumulator's start, coupled decay.
    open_case("torch-adagrad", "default"),
    open_case("torch-adagrad", "lr-decay", lr_decay=0.01),
    open_case("torch-adagrad", "initial-accumulator", initial_accumulator_value=0.5),
    open_case("torch-adagrad", "weight-decay", weight_decay=0.1),
    open_case("torch-adagrad", "maximize", maximize=True),
    open_case("torch-adagrad", "eps", eps=1e-3),
    zero_first_case("torch-adagrad"),
    closed_case("torch-adagrad", "closed-loop", lr=0.5),
    # torch.optim.RMSprop: centered, momentum, both, coupled decay, alpha.
    open_case("torch-rmsprop", "default"),
    open_case("torch-rmsprop", "centered", centered=True),
    open_case("torch-rmsprop", "momentum", momentum=0.9),
    open_case("torch-rmsprop", "centered-momentum", centered=True, momentum=0.5),
    open_case("torch-rmsprop", "weight-decay", weight_decay=0.1),
    open_case("torch-rmsprop", "alpha", alpha=0.9),
    open_case("torch-rmsprop", "maximize", maximize=True),
    open_case("torch-rmsprop", "eps", eps=1e-3),
    zero_first_case("torch-rmsprop", centered=True, momentum=0.9),
    closed_case("torch-rmsprop", "closed-loop", lr=0.01, centered=True),
    # MADGRAD: momentum or not, coupled or decoupled decay, eps 0.
    open_case("madgrad", "default"),
    open_case("madgrad", "no-momentum", momentum=0.0),
    open_case("madgrad", "weight-decay", weight_decay=0.1),
    open_case("madgrad", "decouple-decay", weight_decay=0.1, decouple_decay=True),
    open_case("madgrad", "no-momentum-decouple-decay", momentum=0.0, weight_decay=0.1,
              decouple_decay=True),
    open_case("madgrad", "eps-zero", eps=0.0),
    open_case("madgrad", "momentum-0.5-lr", momentum=0.5, lr=0.05),
    zero_first_case("madgrad"),
    closed_case("madgrad", "closed-loop", lr=0.05),
    # D-Adaptation SGD: momentum, weight decay, growth rate, d0. (The reference
    # raises on an all-zero first gradient, so there is no zero-first case.)
    open_case("dadapt-sgd", "default"),
    open_case("dadapt-sgd", "momentum", momentum=0.9),
    open_case("dadapt-sgd", "weight-decay", weight_decay=0.1),
    open_case("dadapt-sgd", "growth-rate", growth_rate=1.05),
    open_case("dadapt-sgd", "d0", d0=1e-3),
    open_case("dadapt-sgd", "lr", lr=0.5, momentum=0.5),
    closed_case("dadapt-sgd", "closed-loop", momentum=0.9),
    # D-Adaptation Adan: proximal and plain decay, betas, growth, zero first steps.
    open_case("dadapt-adan", "default"),
    open_case("dadapt-adan", "no-prox", no_prox=True),
    open_case("dadapt-adan", "no-decay", weight_decay=0.0),
    open_case("dadapt-adan", "betas", betas=(0.9, 0.9, 0.95)),
    open_case("dadapt-adan", "growth-rate", growth_rate=1.05),
    open_case("dadapt-adan", "d0", d0=1e-3),
    zero_first_case("dadapt-adan"),
    closed_case("dadapt-adan", "closed-loop"),
    # D-Adaptation AdaGrad: momentum, decay, eps, growth rate, zero first steps.
    open_case("dadapt-adagrad", "default"),
    open_case("dadapt-adagrad", "momentum", momentum=0.9),
    open_case("dadapt-adagrad", "weight-decay", weight_decay=0.1),
    open_case("dadapt-adagrad", "eps", eps=1e-3),
    open_case("dadapt-adagrad", "growth-rate", growth_rate=1.05),
    open_case("dadapt-adagrad", "d0", d0=1e-3),
    zero_first_case("dadapt-adagrad"),
    closed_case("dadapt-adagrad", "closed-loop", momentum=0.9),
    # D-Adaptation Lion: betas, decay, d0, and zero first gradients (sign 0).
    open_case("dadapt-lion", "default"),
    open_case("dadapt-lion", "weight-decay", weight_decay=0.1),
    open_case("dadapt-lion", "betas", betas=(0.8, 0.95)),
    open_case("dadapt-lion", "d0", d0=1e-3),
    open_case("dadapt-lion", "lr", lr=0.5),
    zero_first_case("dadapt-lion"),
    closed_case("dadapt-lion", "closed-loop"),
    # Mirror MADGRAD: momentum, both decays, eps (0 by default), zero first steps.
    open_case("mirror-madgrad", "default"),
    open_case("mirror-madgrad", "momentum-0.5", momentum=0.5),
    open_case("mirror-madgrad", "no-momentum", momentum=0.0),
    open_case("mirror-madgrad", "weight-decay", weight_decay=0.1),
    open_case("mirror-madgrad", "decouple-decay", weight_decay=0.1, decouple_decay=True),
    open_case("mirror-madgrad", "eps", eps=1e-6),
    zero_first_case("mirror-madgrad"),
    closed_case("mirror-madgrad", "closed-loop"),
    # D-Adaptation Adam: every option, and the early return while sum |s| is 0.
    open_case("dadapt-adam", "default"),
    open_case("dadapt-adam", "bias-correction", use_bias_correction=True),
    open_case("dadapt-adam", "weight-decay", weight_decay=0.1),
    # Decoupled decay at lr 1 diverges on the open-loop problem, as Prodigy's
    # does (1 - weight_decay*dlr falls below -1 as d grows); a smaller lr and
    # the closed loop check the branch on finite runs.
    open_case("dadapt-adam", "decouple-lr", weight_decay=0.1, decouple=True, lr=0.3),
    open_case("dadapt-adam", "growth-rate", growth_rate=1.05),
    open_case("dadapt-adam", "d0", d0=1e-3),
    open_case("dadapt-adam", "betas", betas=(0.8, 0.99)),
    open_case("dadapt-adam", "lr", lr=0.5),
    zero_first_case("dadapt-adam"),
    closed_case("dadapt-adam", "closed-loop"),
    closed_case("dadapt-adam", "closed-loop-bias-correction", use_bias_correction=True),
    closed_case("dadapt-adam", "closed-loop-decouple", weight_decay=0.1, decouple=True),
    # Schedule-Free SGD.
    open_case("sgd-schedulefree", "default"),
    open_case("sgd-schedulefree", "warmup", warmup_steps=10),
    open_case("sgd-schedulefree", "r", r=1.0, weight_lr_power=1.0),
    open_case("sgd-schedulefree", "weight-decay", weight_decay=0.05),
    open_case("sgd-schedulefree", "momentum", momentum=0.5),
    zero_first_case("sgd-schedulefree"),
    eval_train_case("sgd-schedulefree"),
    open_case("sgd-schedulefree", "lr-small", lr=0.1),
    closed_case("sgd-schedulefree", "closed-loop", warmup_steps=5),
    # Schedule-Free AdamW.
    open_case("adamw-schedulefree", "default"),
    open_case("adamw-schedulefree", "warmup", warmup_steps=20),
    open_case("adamw-schedulefree", "r", r=0.5, weight_lr_power=3.0),
    open_case("adamw-schedulefree", "weight-decay", weight_decay=0.1),
    open_case("adamw-schedulefree", "betas", betas=(0.95, 0.98)),
    open_case("adamw-schedulefree", "eps", eps=1e-4),
    zero_first_case("adamw-schedulefree"),
    eval_train_case("adamw-schedulefree"),
    closed_case("adamw-schedulefree", "closed-loop", lr=0.05, warmup_steps=10),
    # Schedule-Free RAdam: the silent phase and without it, every averaging option.
    open_case("radam-schedulefree", "default"),
    open_case("radam-schedulefree", "sgd-phase", silent_sgd_phase=False),
    open_case("radam-schedulefree", "beta2-small", betas=(0.9, 0.9)),
    open_case("radam-schedulefree", "betas-eps", betas=(0.95, 0.99), eps=1e-4),
    open_case("radam-schedulefree", "weight-decay", weight_decay=0.1, lr=0.01),
    open_case("radam-schedulefree", "r-power", r=1.0, weight_lr_power=0.0),
    open_case("radam-schedulefree", "sgd-phase-decay", silent_sgd_phase=False,
              weight_decay=0.05, betas=(0.9, 0.99)),
    zero_first_case("radam-schedulefree"),
    eval_train_case("radam-schedulefree"),
    closed_case("radam-schedulefree", "closed-loop", lr=0.05),
    closed_case("radam-schedulefree", "closed-loop-sgd-phase", lr=0.05, silent_sgd_phase=False),
    # Prodigy: every option, plus the early return while d_denom is still zero.
    open_case("prodigy", "default"),
    open_case("prodigy", "bias-correction", use_bias_correction=True),
    open_case("prodigy", "safeguard-warmup", safeguard_warmup=True),
    open_case("prodigy", "coupled-decay", weight_decay=0.1, decouple=False),
    # Decoupled decay at lr = 1 diverges on the open-loop problem: the factor
    # 1 - weight_decay*d*lr falls below -1 once d passes 20 and d keeps growing.
    # A smaller lr, and the closed loop, check the branch on finite runs.
    open_case("prodigy", "decoupled-decay-lr", weight_decay=0.1, lr=0.3),
    open_case("prodigy", "growth-rate", growth_rate=1.02),
    open_case("prodigy", "beta3", beta3=0.9),
    open_case("prodigy", "d-coef", d_coef=0.5),
    open_case("prodigy", "d0", d0=1e-3),
    # Tensor lengths 25, 7 and 8: none is a multiple of slice_p.
    Case("prodigy", "slice-p", {"slice_p": 3}, shapes=((5, 5), (7,), (2, 2, 2))),
    open_case("prodigy", "beta1-zero", betas=(0.0, 0.999)),
    open_case("prodigy", "lr", lr=0.5),
    zero_first_case("prodigy"),
    # One tensor starts at exactly zero, which takes Prodigy's scalar-p0 branch.
    Case("prodigy", "zero-init-tensor", {}, zero_x0_tensor=1),
    open_case("prodigy", "all-options", use_bias_correction=True, safeguard_warmup=True,
              growth_rate=1.05, weight_decay=0.1, decouple=False),
    closed_case("prodigy", "closed-loop"),
    closed_case("prodigy", "closed-loop-bias-correction", use_bias_correction=True),
    closed_case("prodigy", "closed-loop-decoupled-decay", weight_decay=0.1),
    # MoMo: bias correction, weight decay, a non-zero lower bound and its online estimate.
    open_case("momo", "default"),
    open_case("momo", "bias-correction", bias_correction=True),
    open_case("momo", "weight-decay", weight_decay=0.1),
    open_case("momo", "lb", lb=0.5),
    open_case("momo", "use-fstar", use_fstar=True),
    open_case("momo", "use-fstar-lb", use_fstar=True, lb=-1.0),
    open_case("momo", "beta-lr", beta=0.5, lr=0.1),
    open_case("momo", "all-options", bias_correction=True, weight_decay=0.1, use_fstar=True,
              beta=0.8),
    zero_first_case("momo"),
    zero_first_case("momo", bias_correction=True),
    closed_case("momo", "closed-loop"),
    closed_case("momo", "closed-loop-fstar", use_fstar=True, weight_decay=0.01),
    # MoMo-Adam: both weight-decay forms, the lower bound and its estimate.
    open_case("momo-adam", "default"),
    open_case("momo-adam", "weight-decay", weight_decay=0.1),
    open_case("momo-adam", "weight-decay-no-divide", weight_decay=0.1, divide=False),
    open_case("momo-adam", "lb", lb=0.5),
    open_case("momo-adam", "use-fstar", use_fstar=True),
    open_case("momo-adam", "betas-eps", betas=(0.8, 0.99), eps=1e-4),
    open_case("momo-adam", "lr", lr=0.5),
    open_case("momo-adam", "all-options", weight_decay=0.1, divide=False, use_fstar=True,
              lb=-0.5),
    zero_first_case("momo-adam"),
    closed_case("momo-adam", "closed-loop"),
    closed_case("momo-adam", "closed-loop-fstar", lr=0.1, use_fstar=True, weight_decay=0.01),
    # Mechanic over SGD, AdamW and Adam: every mechanize argument, base options.
    mechanic_case("mechanic-sgd", "default", lr=0.01),
    mechanic_case("mechanic-sgd", "momentum", lr=0.01, momentum=0.9),
    mechanic_case("mechanic-sgd", "base-weight-decay", lr=0.01, momentum=0.9, weight_decay=0.01),
    mechanic_case("mechanic-sgd", "store-delta", {"store_delta": True}, lr=0.01),
    mechanic_case("mechanic-sgd", "s-decay", {"s_decay": 0.1}, lr=0.01),
    mechanic_case("mechanic-sgd", "no-s-decay", {"s_decay": 0.0}, lr=0.01),
    mechanic_case("mechanic-sgd", "betas", {"betas": (0.9, 0.99)}, lr=0.01),
    mechanic_case("mechanic-sgd", "s-init-eps", {"s_init": 1e-4, "eps": 1e-6}, lr=0.01),
    mechanic_case("mechanic-sgd", "all-options",
                  {"store_delta": True, "s_decay": 0.05, "betas": (0.95, 0.999, 0.9999),
                   "s_init": 1e-6, "eps": 1e-7}, lr=0.01, momentum=0.9, nesterov=True),
    Case("mechanic-sgd", "zero-first-grads", {"lr": 0.01}, zero_first_steps=3,
         mechanize_kwargs={}),
    mechanic_case("mechanic-sgd", "closed-loop", kind="closed_loop", lr=0.01),
    mechanic_case("mechanic-sgd", "closed-loop-store-delta", {"store_delta": True},
                  kind="closed_loop", lr=0.01, momentum=0.9),
    mechanic_case("mechanic-adamw", "default"),
    mechanic_case("mechanic-adamw", "store-delta", {"store_delta": True}),
    mechanic_case("mechanic-adamw", "weight-decay", weight_decay=0.1, lr=1e-3),
    mechanic_case("mechanic-adamw", "amsgrad", amsgrad=True),
    mechanic_case("mechanic-adamw", "s-decay-betas", {"s_decay": 0.02, "betas": (0.9, 0.999)},
                  betas=(0.8, 0.99)),
    Case("mechanic-adamw", "zero-first-grads", {}, zero_first_steps=3, mechanize_kwargs={}),
    mechanic_case("mechanic-adamw", "closed-loop", kind="closed_loop", lr=0.01),
    mechanic_case("mechanic-adamw", "closed-loop-store-delta", {"store_delta": True},
                  kind="closed_loop", lr=0.01),
    mechanic_case("mechanic-adam", "default", weight_decay=0.01),
]


# ----------------------------------------------------------------------------------------
# Seeds and problem data
# ----------------------------------------------------------------------------------------

def stable_seed(text):
    """A seed that depends only on the text, the same on every run and every machine."""
    return zlib.crc32(text.encode("utf-8"))


def problem_rng(case):
    """The random stream that builds a fixture's x0 and gradients."""
    return np.random.default_rng([stable_seed(case.name), 0])


def perturbation_rng(case):
    """A separate random stream for the sensitivity perturbation."""
    return np.random.default_rng([stable_seed(case.name), 1])


def pick_shapes(case):
    """The tensor layout of an open-loop case: its own, or one chosen from its seed."""
    if case.shapes is not None:
        return [list(s) for s in case.shapes]
    chosen = SHAPE_SETS[stable_seed(case.name) % len(SHAPE_SETS)]
    return [list(s) for s in chosen]


def shape_sizes(shapes):
    """The number of elements of each tensor."""
    return [int(np.prod(s)) for s in shapes]


def pick_special_steps(rng, steps, first_free):
    """Choose the rows that get all-zero gradients and the rows that get 1e3x gradients.

    The zero rows always include a consecutive pair (two skipped steps in a row) and one
    further row; the big rows are two other rows.  Rows before first_free are left alone.
    """
    start = int(rng.integers(first_free, steps - 1))
    zero = {start, start + 1}
    others = [t for t in rng.permutation(np.arange(first_free, steps)) if int(t) not in zero]
    zero.add(int(others[0]))
    big = {int(others[1]), int(others[2])}
    return sorted(zero), sorted(big)


def make_open_loop_problem(case):
    """Build shapes, x0 and the T gradient rows of an open-loop case."""
    rng = problem_rng(case)
    shapes = pick_shapes(case)
    dim = sum(shape_sizes(shapes))
    x0 = rng.standard_normal(dim)
    if case.zero_x0_tensor is not None:
        start = sum(shape_sizes(shapes)[:case.zero_x0_tensor])
        x0[start:start + shape_sizes(shapes)[case.zero_x0_tensor]] = 0.0
    direction = rng.standard_normal(dim)
    grads = direction + NOISE_SCALE * rng.standard_normal((OPEN_LOOP_STEPS, dim))
    zero_steps, big_steps = pick_special_steps(rng, OPEN_LOOP_STEPS, 4)
    zero_steps = sorted(set(range(case.zero_first_steps)) | set(zero_steps))
    grads[zero_steps] = 0.0
    grads[big_steps] *= BIG_GRAD_FACTOR
    losses = None
    if OPTIMIZERS[case.optimizer].needs_loss:
        # From a stream of their own, so the other fixtures' draws stay as they were:
        # a decaying positive loss with noise.
        loss_rng = np.random.default_rng([stable_seed(case.name), 1])
        decay = 2.0 * 0.97 ** np.arange(OPEN_LOOP_STEPS)
        losses = decay * (1.0 + 0.2 * loss_rng.standard_normal(OPEN_LOOP_STEPS)) ** 2 + 0.01
    return {"shapes": shapes, "x0": x0, "grads": grads, "losses": losses,
            "zero_grad_steps": zero_steps, "big_grad_steps": big_steps}


def make_dataset():
    """The synthetic 64x8 logistic regression data set, shared by all closed-loop fixtures.

    Features are standard normal; labels are drawn from the logistic model of a random
    "true" weight vector and bias, so the classes overlap and the problem is well posed.
    """
    rng = np.random.default_rng(stable_seed(DATASET_SEED_NAME))
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    w_true = rng.standard_normal(N_FEATURES)
    b_true = 0.3
    prob = 1.0 / (1.0 + np.exp(-(X @ w_true + b_true)))
    y = (rng.random(N_SAMPLES) < prob).astype(np.float64)
    return X, y


def make_closed_loop_x0(case):
    """A small seeded starting point for the logistic regression, w (8,) then b (1,)."""
    return 0.5 * problem_rng(case).standard_normal(N_FEATURES + 1)


def logistic_loss_and_grad(flat_params, X, y):
    """Loss and gradient of the regularised logistic regression at flat params [w, b].

    The loss uses the overflow-safe form max(z,0) + log1p(exp(-|z|)) - y z.
    """
    w = torch.from_numpy(flat_params[:N_FEATURES])
    b = torch.from_numpy(flat_params[N_FEATURES:])
    z = X @ w + b
    data_loss = (torch.clamp(z, min=0) + torch.log1p(torch.exp(-z.abs())) - y * z).mean()
    loss = data_loss + 0.5 * L2 * torch.dot(w, w)
    residual = torch.sigmoid(z) - y
    dw = X.T @ residual / N_SAMPLES + L2 * w
    db = residual.mean().reshape(1)
    return float(loss), torch.cat([dw, db]).numpy().copy()


# ----------------------------------------------------------------------------------------
# Driving an official optimizer
# ----------------------------------------------------------------------------------------

def make_params(x0, shapes):
    """Leaf float64 tensors holding x0, split into the given shapes."""
    tensors, offset = [], 0
    for shape, size in zip(shapes, shape_sizes(shapes)):
        values = torch.tensor(x0[offset:offset + size], dtype=torch.float64).reshape(shape)
        tensors.append(values.clone().requires_grad_(True))
        offset += size
    return tensors


def flatten(tensors):
    """The tensors' values, each flattened row-major and concatenated, as a fresh array."""
    return np.concatenate([t.detach().reshape(-1).numpy() for t in tensors]).copy()


def set_grads(tensors, flat_grad):
    """Give every tensor a fresh gradient (optimizers may modify .grad in place)."""
    offset = 0
    for t in tensors:
        size = t.numel()
        chunk = torch.tensor(flat_grad[offset:offset + size], dtype=torch.float64)
        t.grad = chunk.reshape(t.shape)
        offset += size


def build_optimizer(case, tensors):
    """Construct the official optimizer; Prodigy's informational print is silenced."""
    info = OPTIMIZERS[case.optimizer]
    with contextlib.redirect_stdout(io.StringIO()):
        if info.base_optimizer:
            return info.factory(tensors, case.mechanize_kwargs, **case.hyperparameters)
        return info.factory(tensors, **case.hyperparameters)


def group_after_init(optimizer):
    """param_groups[0] right after construction, without the parameter list."""
    return {k: v for k, v in optimizer.param_groups[0].items() if k != "params"}


def read_scalars(optimizer, keys):
    """The user-visible group scalars after a step; a missing key is recorded as None."""
    group = optimizer.param_groups[0]
    return {k: group.get(k) for k in keys}


def eval_params_from_copy(tensors, optimizer):
    """Eval-mode x from a deep copy, so the live training trajectory is not disturbed."""
    tensors_copy, optimizer_copy = copy.deepcopy((tensors, optimizer))
    optimizer_copy.eval()
    return flatten(tensors_copy)


def new_trace():
    """Empty per-step records."""
    return {"params": [], "eval_params": [], "scalars": [], "grads": [], "losses": []}


def record_after_step(case, tensors, optimizer, trace):
    """Record params, eval params (Schedule-Free) and scalars after one step."""
    info = OPTIMIZERS[case.optimizer]
    if case.eval_train_each_step:
        optimizer.eval()
        trace["eval_params"].append(flatten(tensors))
        optimizer.train()
        trace["params"].append(flatten(tensors))
    else:
        trace["params"].append(flatten(tensors))
        if info.schedule_free:
            trace["eval_params"].append(eval_params_from_copy(tensors, optimizer))
    if info.scalar_reader:
        trace["scalars"].append(info.scalar_reader(optimizer))
    elif info.scalar_keys:
        trace["scalars"].append(read_scalars(optimizer, info.scalar_keys))


def start_run(case, x0, shapes):
    """Parameters and optimizer ready for the first step, plus the group after init."""
    tensors = make_params(x0, shapes)
    optimizer = build_optimizer(case, tensors)
    initial_group = group_after_init(optimizer)
    if OPTIMIZERS[case.optimizer].schedule_free:
        # Schedule-Free refuses to step unless it has been put in train mode.
        optimizer.train()
    return tensors, optimizer, initial_group


def take_step(case, optimizer, loss):
    """One official step, with the loss for the rules that read it."""
    if OPTIMIZERS[case.optimizer].needs_loss:
        optimizer.step(loss=torch.tensor(loss, dtype=torch.float64))
    else:
        optimizer.step()


def run_open_loop(case, x0, shapes, grads, losses):
    """Feed the given gradient rows (and losses) to the optimizer, one per step."""
    tensors, optimizer, initial_group = start_run(case, x0, shapes)
    trace = new_trace()
    for t, row in enumerate(grads):
        set_grads(tensors, row)
        take_step(case, optimizer, None if losses is None else float(losses[t]))
        record_after_step(case, tensors, optimizer, trace)
    trace["group_after_init"] = initial_group
    return trace


def run_closed_loop(case, x0, shapes, X, y):
    """Train the logistic regression, taking each gradient at the current params."""
    tensors, optimizer, initial_group = start_run(case, x0, shapes)
    trace = new_trace()
    trace["eval_losses"] = []
    for _ in range(CLOSED_LOOP_STEPS):
        loss, grad = logistic_loss_and_grad(flatten(tensors), X, y)
        trace["losses"].append(loss)
        trace["grads"].append(grad)
        set_grads(tensors, grad)
        take_step(case, optimizer, loss)
        record_after_step(case, tensors, optimizer, trace)
        if trace["eval_params"]:
            trace["eval_losses"].append(logistic_loss_and_grad(trace["eval_params"][-1], X, y)[0])
    trace["group_after_init"] = initial_group
    trace["final_loss"] = logistic_loss_and_grad(trace["params"][-1], X, y)[0]
    return trace


# ----------------------------------------------------------------------------------------
# Sensitivity
# ----------------------------------------------------------------------------------------

def perturb(values, rng):
    """Multiply every entry by 1 +/- 1e-12, with a seeded random sign per entry."""
    signs = rng.choice([-1.0, 1.0], size=values.shape)
    return values * (1.0 + RELATIVE_PERTURBATION * signs)


def max_rel_dev(rows, perturbed_rows):
    """Worst over steps of ||p - p'|| / ||p||.

    Steps where p is exactly zero are skipped, and so are steps where the reference itself
    has overflowed (non-finite p, or a norm that overflows): the deviation is undefined there.
    A perturbed run that overflows where the reference did not counts as infinite deviation.
    """
    worst = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for p, q in zip(rows, perturbed_rows):
            norm = np.linalg.norm(p)
            if norm == 0 or not np.isfinite(norm):
                continue
            worst = max(worst, float(np.linalg.norm(p - q) / norm))
    return worst


def sensitivity(case, trace, perturbed_trace, perturbed_what):
    """The sensitivity block comparing the reference run with the perturbed rerun."""
    eval_dev = None
    if OPTIMIZERS[case.optimizer].schedule_free:
        eval_dev = max_rel_dev(trace["eval_params"], perturbed_trace["eval_params"])
    return {
        "relative_perturbation": RELATIVE_PERTURBATION,
        "perturbed": perturbed_what,
        "max_rel_dev_params": max_rel_dev(trace["params"], perturbed_trace["params"]),
        "max_rel_dev_eval_params": eval_dev,
    }


# ----------------------------------------------------------------------------------------
# Assembling fixtures
# ----------------------------------------------------------------------------------------

def package_version(package):
    """The installed version of a distribution, as pip knows it."""
    return importlib.metadata.version(package)


def protocol(case, zero_steps, big_steps):
    """How the reference was driven."""
    info = OPTIMIZERS[case.optimizer]
    method = None
    if info.schedule_free:
        method = SF_EVAL_LIVE if case.eval_train_each_step else SF_EVAL_COPY
    return {
        "schedule_free_train_called_before_first_step": info.schedule_free,
        "eval_train_each_step": case.eval_train_each_step,
        "eval_params_method": method,
        "loss_passed_as": LOSS_PASSED_AS if info.needs_loss else None,
        "zero_grad_steps": zero_steps,
        "big_grad_steps": big_steps,
    }


def header(case, kind, trace, shapes, steps):
    """The keys every fixture starts with, in the order of the public fixtures."""
    info = OPTIMIZERS[case.optimizer]
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "optimizer": case.optimizer,
        "setting": case.setting,
        "official_class": info.official_class,
        "package": info.package,
        "package_version": package_version(info.package),
        "torch_version": torch.__version__,
        "dtype": "float64",
        "hyperparameters": case.hyperparameters,
        **({"mechanize_kwargs": case.mechanize_kwargs, "base_optimizer": info.base_optimizer}
           if info.base_optimizer else {}),
        "param_group_after_init": trace["group_after_init"],
        "shapes": shapes,
        "dim": sum(shape_sizes(shapes)),
        "steps": steps,
    }


def expected_block(case, trace, closed_loop):
    """The expected trajectory: params, eval params and scalars (null where not recorded)."""
    info = OPTIMIZERS[case.optimizer]
    block = {
        "params": trace["params"],
        "eval_params": trace["eval_params"] if info.schedule_free else None,
        "scalars": trace["scalars"] if info.scalar_keys else None,
    }
    if closed_loop:
        block["eval_losses"] = trace["eval_losses"] if info.schedule_free else None
    return block


def open_loop_fixture(case):
    """Run an open-loop case twice (reference and perturbed) and assemble its fixture."""
    problem = make_open_loop_problem(case)
    shapes, x0, grads = problem["shapes"], problem["x0"], problem["grads"]
    losses = problem["losses"]
    trace = run_open_loop(case, x0, shapes, grads, losses)
    rng = perturbation_rng(case)
    perturbed_losses = None if losses is None else perturb(losses, rng)
    perturbed = run_open_loop(case, perturb(x0, rng), shapes, perturb(grads, rng),
                              perturbed_losses)
    fixture = header(case, "open_loop", trace, shapes, OPEN_LOOP_STEPS)
    fixture["protocol"] = protocol(case, problem["zero_grad_steps"], problem["big_grad_steps"])
    fixture["x0"] = x0
    fixture["grads"] = grads
    fixture["losses"] = losses
    fixture["expected"] = expected_block(case, trace, closed_loop=False)
    what = "x0 and all given gradients" + (" and losses" if losses is not None else "")
    fixture["sensitivity"] = sensitivity(case, trace, perturbed, what)
    return fixture


def problem_description():
    """The closed-loop problem, in words and numbers."""
    return {
        "name": "l2_logistic_regression",
        "loss": "mean_i[max(z_i,0) + log1p(exp(-|z_i|)) - y_i z_i] + l2/2 ||w||^2, z = X w + b",
        "gradient": "dw = X^T(sigmoid(z)-y)/n + l2 w, db = mean(sigmoid(z)-y)",
        "n": N_SAMPLES,
        "features": N_FEATURES,
        "l2": L2,
        "bias_regularised": False,
        "params": ["w (8,)", "b (1,)"],
        "full_batch": True,
    }


def dataset_block(X, y):
    """The data set as stored in the fixture."""
    return {
        "X": X,
        "y": y,
        "source": (f"synthetic: numpy default_rng(zlib.crc32({DATASET_SEED_NAME!r})), "
                   "X standard normal, y ~ Bernoulli(sigmoid(X w_true + 0.3)), "
                   "w_true standard normal"),
    }


def closed_loop_fixture(case, X, y):
    """Run a closed-loop case twice (reference and perturbed x0) and assemble its fixture."""
    shapes = [[N_FEATURES], [1]]
    x0 = make_closed_loop_x0(case)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    trace = run_closed_loop(case, x0, shapes, Xt, yt)
    perturbed = run_closed_loop(case, perturb(x0, perturbation_rng(case)), shapes, Xt, yt)
    fixture = header(case, "closed_loop", trace, shapes, CLOSED_LOOP_STEPS)
    fixture["problem"] = problem_description()
    fixture["dataset"] = dataset_block(X, y)
    fixture["protocol"] = protocol(case, [], [])
    fixture["x0"] = x0
    fixture["grads"] = trace["grads"]
    fixture["losses"] = trace["losses"]
    fixture["expected"] = expected_block(case, trace, closed_loop=True)
    fixture["final_loss"] = trace["final_loss"]
    fixture["sensitivity"] = sensitivity(case, trace, perturbed,
                                         "x0 (gradients recomputed at the perturbed iterates)")
    return fixture


# ----------------------------------------------------------------------------------------
# JSON output
# ----------------------------------------------------------------------------------------

def to_json_value(value):
    """Convert tensors, arrays, tuples and non-finite floats into plain JSON values.

    Finite floats stay Python floats, which json.dumps writes with repr (round-trip exact);
    inf, -inf and nan become the strings "inf", "-inf" and "nan".
    """
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return to_json_value(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float_to_json(float(value))
    return value


def float_to_json(x):
    """A finite float as itself, a non-finite one as its schema string."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def write_fixture(fixture, out_dir):
    """Write one fixture as compact JSON named <optimizer>-<setting>.json."""
    name = f"{fixture['optimizer']}-{fixture['setting']}.json"
    text = json.dumps(to_json_value(fixture), separators=(",", ":"), allow_nan=False)
    with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
        f.write(text)
    return name


def parse_args():
    """Command line: only the output directory."""
    default_out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=default_out, help="output directory (default: %(default)s)")
    parser.add_argument("--only", action="append", default=[], metavar="OPTIMIZER",
                        help="write only this optimizer's fixtures (repeatable)")
    return parser.parse_args()


def main():
    args = parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    # Tensors the official code creates without a dtype (MoMo's running <g, x>) must be
    # float64 too, or the reference itself computes partly in float32.
    torch.set_default_dtype(torch.float64)
    os.makedirs(args.out, exist_ok=True)
    X, y = make_dataset()
    started = time.perf_counter()
    cases = [c for c in CASES if not args.only or c.optimizer in args.only]
    for case in cases:
        if case.kind == "closed_loop":
            fixture = closed_loop_fixture(case, X, y)
        else:
            fixture = open_loop_fixture(case)
        print(write_fixture(fixture, args.out))
    print(f"{len(cases)} fixtures written to {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
