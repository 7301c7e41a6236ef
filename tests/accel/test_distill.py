from __future__ import annotations

import pytest
import torch

from turbopix.accel.distill import distill, make_student
from turbopix.accel.flops import count_params



@pytest.mark.parametrize("name", ["dcgan", "mlp-gan", "vae", "conv-vae", "ae"])
def test_student_is_smaller_with_the_same_interface(name, make):
    teacher = make(name)
    student = make_student(teacher, 0.5)
    assert count_params(student) < count_params(teacher)
    assert (student.latent_dim, student.num_classes, student.image_shape) == (teacher.latent_dim, teacher.num_classes, teacher.image_shape)


def test_autoencoder_student_keeps_the_teachers_latent_prior(make):
    teacher = make("ae")
    teacher.code_mean.fill_(0.3)
    student = make_student(teacher, 0.5)
    assert torch.equal(student.code_mean, teacher.code_mean)


def test_distillation_moves_the_student_towards_the_teacher(make):
    teacher = make("mlp-gan")
    student = make_student(teacher, 0.5)
    report = distill(teacher, student, steps=80, batch_size=32, extractor=None)
    assert report.pixel_l1_last < report.pixel_l1_first
    assert report.extractor is None and not student.training


def test_width_must_be_a_fraction(make):
    with pytest.raises(ValueError, match="width"):
        make_student(make("dcgan"), 1.5)
