"""Preflight warnings when a scan's field does not match the face."""

from __future__ import annotations

from fibsims.engine.field_checks import field_warnings


def _with_step(recipe, position: int, **update):
    changed = recipe.model_copy(deep=True)
    changed.slice[position] = changed.slice[position].model_copy(update=update)
    return changed


def test_a_square_raster_on_a_wide_face_is_said_to_pass_the_face_with_the_fitting_size(recipe):
    fitted = _with_step(recipe, 2, resolution=(32, 24))
    (warning,) = field_warnings(fitted)  # the 8 x 8 raster on the 20 x 15 um face
    assert warning == (
        "slice.3.sims_raster: the 8 x 8 px raster covers 20 x 20 um of the 20 x 15 um face, "
        "2.5 um beyond the face at top and bottom, where it sees no sample; "
        "set resolution [8, 6] to cover the face height"
    )


def test_a_flat_image_is_said_to_miss_the_top_and_bottom_of_the_face(recipe):
    warnings = field_warnings(_with_step(recipe, 3, resolution=(8, 6)))
    assert warnings == [
        "slice.2.se_image: the 32 x 16 px image covers 20 x 10 um of the 20 x 15 um face: the "
        "top and bottom 2.5 um of the face are never seen; set resolution [32, 24] to cover "
        "the face height"
    ]


def test_fields_that_fit_the_face_raise_no_warning(recipe):
    fitted = _with_step(_with_step(recipe, 2, resolution=(32, 24)), 3, resolution=(8, 6))
    assert field_warnings(fitted) == []


def test_a_zoomed_field_is_not_said_to_miss_the_face(recipe):
    zoomed = _with_step(recipe, 2, resolution=(32, 16), field_width_um=10.0)
    zoomed = _with_step(zoomed, 3, resolution=(8, 6))
    assert field_warnings(zoomed) == []


def test_a_field_wider_than_the_face_is_said_to_pass_its_sides(recipe):
    wide = _with_step(recipe, 2, resolution=(32, 24), field_width_um=30.0)
    wide = _with_step(wide, 3, resolution=(8, 6))
    warnings = field_warnings(wide)
    assert warnings == [
        "slice.2.se_image: the 32 x 24 px image covers 30 x 22.5 um of the 20 x 15 um face, "
        "5 um beyond its left edge, 5 um beyond its right edge, 3.75 um beyond its top edge, "
        "3.75 um beyond its bottom edge, where it sees no sample; move or shrink it"
    ]


def test_a_field_moved_off_centre_is_judged_by_its_edges(recipe):
    fitted = _with_step(recipe, 3, resolution=(8, 6))
    corner = _with_step(fitted, 2, resolution=(32, 24), field_width_um=10.0)
    corner = _with_step(corner, 2, field_center_um=(5.0, 3.75))
    assert field_warnings(corner) == [], "a quarter of the face, inside it"
    past = _with_step(corner, 2, field_center_um=(6.0, 3.75))
    (warning,) = field_warnings(past)
    assert "1 um beyond its right edge, where it sees no sample; move or shrink it" in warning


def test_a_field_given_by_its_height_is_told_to_change_its_height_too(recipe):
    fitted = _with_step(recipe, 3, resolution=(8, 6))
    tall = _with_step(fitted, 2, resolution=(32, 32), field_height_um=20.0)
    (warning,) = field_warnings(tall)  # 20 x 20 um on the 20 x 15 um face
    assert warning.endswith("set resolution [32, 24] and field_height_um 15 to cover the face")
    fixed = _with_step(tall, 2, resolution=(32, 24), field_height_um=15.0)
    assert field_warnings(fixed) == [], "the advice, followed, fits"
