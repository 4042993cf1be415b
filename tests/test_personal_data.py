"""Personal data (PIPL): ID and phone numbers are validated, encrypted, hashed and masked."""

from __future__ import annotations

import base64
import hashlib
import re
import traceback
from datetime import date, timedelta

import pytest

from server.personal_data import (
    FieldCipher,
    FieldDecryptionError,
    InvalidIdNumber,
    InvalidPhone,
    age_on,
    birth_date_of,
    mask_card_number,
    mask_id_number,
    mask_name,
    mask_phone,
    validate_id_number,
    validate_phone,
)

TODAY = date(2025, 6, 15)
LUCHENG = "330302"  # Lucheng district, Wenzhou
SECRET = b"test-secret-key-that-is-long-enough-for-production-0123456789"
OTHER_SECRET = b"another-secret-key-that-is-long-enough-for-production-987654"


def check_char(first17: str) -> str:
    """The GB 11643 check character, computed independently of the module under test."""
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_id(region: str = LUCHENG, birth: str = "19500101", sequence: str = "123") -> str:
    """An ID number with the given parts and a correct check character."""
    first17 = region + birth + sequence
    return first17 + check_char(first17)


def make_id_ending_in_x(region: str = LUCHENG, birth: str = "19800515") -> str:
    for sequence in range(1000):
        number = make_id(region, birth, f"{sequence:03d}")
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence gives an X check character")


def with_wrong_check_char(number: str) -> str:
    wrong = "0" if number[17] != "0" else "1"
    return number[:17] + wrong


def leaked_text(error: BaseException) -> str:
    """Everything an exception could show in a log: str, repr, params and formatted chain."""
    parts = [str(error), repr(error), repr(error.args), *traceback.format_exception(error)]
    parts.append(repr(getattr(error, "params", None)))
    return "\n".join(parts)


# --- ID card numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("birth", ["19500101", "20200229", "19991231"])
def test_valid_id_number_from_lucheng_is_accepted_unchanged(birth):
    number = make_id(birth=birth)
    assert validate_id_number(number, today=TODAY) == number


def test_published_example_with_x_check_character_is_accepted():
    assert validate_id_number("11010519491231002X", today=TODAY) == "11010519491231002X"


def test_x_check_character_computed_for_a_wenzhou_number_is_accepted():
    number = make_id_ending_in_x()
    assert validate_id_number(number, today=TODAY) == number


def test_lower_case_x_and_surrounding_spaces_are_normalised():
    number = make_id_ending_in_x()
    typed = f"  {number[:17]}x \t"
    assert validate_id_number(typed, today=TODAY) == number


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "length"),
        ("33030219500101123", "length"),  # 17 characters
        ("3303021950010112345", "length"),  # 19 characters
        ("330302500101123", "length"),  # the old 15-digit format
        ("33030219500101A234", "characters"),
        ("33030219500101123Y", "characters"),
        ("X30302195001011234", "characters"),
        ("3303 0219500101123", "characters"),  # an inner space is not allowed
        ("３３０３０２19500101123X", "characters"),  # full-width digits
    ],
)
def test_malformed_id_number_is_refused_with_its_reason(text, reason):
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(text, today=TODAY)
    assert caught.value.params == {"reason": reason}


def test_wrong_check_digit_is_refused():
    number = with_wrong_check_char(make_id())
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(number, today=TODAY)
    assert caught.value.params["reason"] == "check_digit"


def test_digit_where_x_is_due_is_refused_as_check_digit():
    number = make_id_ending_in_x()
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(number[:17] + "0", today=TODAY)
    assert caught.value.params["reason"] == "check_digit"


@pytest.mark.parametrize(
    "birth",
    ["19500230", "20190229", "19501301", "19500001", "19500100", "00000000"],
)
def test_impossible_birth_date_is_refused(birth):
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(make_id(birth=birth), today=TODAY)
    assert caught.value.params["reason"] == "birth_date"


def test_birth_date_in_the_future_is_refused():
    tomorrow = (TODAY + timedelta(days=1)).strftime("%Y%m%d")
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(make_id(birth=tomorrow), today=TODAY)
    assert caught.value.params["reason"] == "birth_date"


def test_born_today_is_accepted():
    number = make_id(birth=TODAY.strftime("%Y%m%d"))
    assert validate_id_number(number, today=TODAY) == number


def test_born_exactly_130_years_ago_is_accepted_but_a_day_earlier_is_refused():
    assert validate_id_number(make_id(birth="18950615"), today=TODAY)
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(make_id(birth="18950614"), today=TODAY)
    assert caught.value.params["reason"] == "birth_date"


@pytest.mark.parametrize("region", ["000000", "100000", "200000", "830000", "910000", "990000"])
def test_region_outside_the_province_codes_is_refused(region):
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(make_id(region=region), today=TODAY)
    assert caught.value.params["reason"] == "region"


@pytest.mark.parametrize("region", ["110101", "330302", "650102", "810000", "820000"])
def test_region_at_either_end_of_the_province_codes_is_accepted(region):
    number = make_id(region=region)
    assert validate_id_number(number, today=TODAY) == number


def test_invalid_id_number_is_a_422_with_its_reason_as_extra_detail():
    error = InvalidIdNumber(reason="check_digit")
    assert (error.code, error.status) == ("invalid_id_number", 422)
    assert error.extra() == {"reason": "check_digit"}


@pytest.mark.parametrize(
    "bad",
    [
        make_id()[:-1],
        make_id()[:-1] + "Q",
        with_wrong_check_char(make_id()),
        make_id(birth="19500230"),
        make_id(region="990000"),
    ],
)
def test_id_number_refusal_never_carries_the_number(bad):
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(bad, today=TODAY)
    text = leaked_text(caught.value)
    assert bad not in text
    assert bad[:14] not in text
    assert bad[6:14] not in text  # not even the birth date digits


def test_birth_date_is_read_from_positions_7_to_14():
    assert birth_date_of(make_id(birth="20200229")) == date(2020, 2, 29)
    assert birth_date_of("11010519491231002X") == date(1949, 12, 31)


def test_age_counts_whole_years_turning_older_on_the_birthday():
    number = make_id(birth="19500615")
    assert age_on(number, date(2025, 6, 14)) == 74
    assert age_on(number, date(2025, 6, 15)) == 75
    assert age_on(number, date(1950, 6, 15)) == 0


def test_feb_29_child_turns_older_on_mar_1_in_non_leap_years():
    number = make_id(birth="20200229")
    assert age_on(number, date(2021, 2, 28)) == 0
    assert age_on(number, date(2021, 3, 1)) == 1
    assert age_on(number, date(2023, 2, 28)) == 2
    assert age_on(number, date(2023, 3, 1)) == 3


def test_feb_29_child_turns_older_on_feb_29_in_leap_years():
    number = make_id(birth="20200229")
    assert age_on(number, date(2024, 2, 28)) == 3
    assert age_on(number, date(2024, 2, 29)) == 4


def test_age_before_birth_is_an_error():
    with pytest.raises(ValueError, match="before the birth date"):
        age_on(make_id(birth="20200229"), date(2020, 2, 28))


# --- Phone numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        " 13812345678 ",
        "138 1234 5678",
        "138-1234-5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "8613812345678",
        "86 138 1234 5678",
    ],
)
def test_mainland_mobile_number_formats_are_normalised_to_11_digits(text):
    assert validate_phone(text) == "13812345678"


@pytest.mark.parametrize("second_digit", "3456789")
def test_every_mobile_prefix_from_13_to_19_is_accepted(second_digit):
    number = f"1{second_digit}012345678"
    assert validate_phone(number) == number


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12812345678",  # 12x is not a mobile prefix
        "10012345678",
        "23812345678",
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "+85213812345678",  # Hong Kong prefix
        "+1 138 1234 5678",
        "86 1381234567",  # 86 followed by only 10 digits
        "+86 +86 13812345678",
        "138.1234.5678",
        "(138) 1234 5678",
        "１３８１２３４５６７８",  # full-width digits
        "0577-88888888",  # Wenzhou landline
        "phone",
    ],
)
def test_non_mobile_phone_text_is_refused(text):
    with pytest.raises(InvalidPhone):
        validate_phone(text)


def test_phone_refusal_is_a_422_and_never_carries_the_number():
    bad = "12812345678"
    with pytest.raises(InvalidPhone) as caught:
        validate_phone(bad)
    assert (caught.value.code, caught.value.status) == ("invalid_phone", 422)
    assert caught.value.params == {}
    assert bad not in leaked_text(caught.value)


# --- Masks ---------------------------------------------------------------------------------


def test_id_number_mask_shows_the_first_and_last_four():
    assert mask_id_number("330302195001011234") == "3303**********1234"
    assert mask_id_number(" 11010519491231002x ") == "1101**********002X"


def test_phone_mask_shows_the_first_three_and_last_four():
    assert mask_phone("13812345678") == "138****5678"


def test_card_number_mask_shows_the_first_two_and_last_four():
    assert mask_card_number("6222021234567890123") == "62*************0123"
    assert mask_card_number("6222 0212 3456 7890") == "62**********7890"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("李小龙", "李**"),
        ("欧阳娜娜", "欧***"),
        (" 王五 ", "王*"),
        ("John Smith", "J* S*"),
        ("Zhang San", "Z* S*"),
        ("Mary Ann Lee", "M* A* L*"),
        ("Madonna", "M*"),
    ],
)
def test_name_mask_keeps_only_the_first_character_or_initials(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("mask", "value"),
    [
        (mask_id_number, "1234"),
        (mask_phone, "1234567"),
        (mask_card_number, "123456"),
        (mask_name, "张"),
    ],
)
def test_masks_hide_everything_when_the_value_is_too_short_to_show_part(mask, value):
    assert mask(value) == "*" * len(value)


@pytest.mark.parametrize("mask", [mask_id_number, mask_phone, mask_card_number, mask_name])
def test_masks_of_an_empty_value_are_empty(mask):
    assert mask("") == ""


# --- Encryption and lookup hashes ----------------------------------------------------------


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(SECRET)


@pytest.mark.parametrize("plaintext", ["330302195001011234", "13812345678", "欧阳娜娜", ""])
def test_encryption_round_trips(cipher, plaintext):
    assert cipher.decrypt(cipher.encrypt(plaintext)) == plaintext


def test_token_is_compact_ascii_with_a_version_prefix_and_96_bit_nonce(cipher):
    plaintext = "330302195001011234"
    token = cipher.encrypt(plaintext)
    assert re.fullmatch(r"v1:[A-Za-z0-9_-]+", token)
    body = token.removeprefix("v1:")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert len(raw) == 12 + len(plaintext.encode()) + 16  # nonce + ciphertext + GCM tag


def test_a_new_cipher_from_the_same_secret_decrypts_old_tokens(cipher):
    token = cipher.encrypt("13812345678")
    assert FieldCipher(SECRET).decrypt(token) == "13812345678"


def test_two_encryptions_of_one_value_differ_but_their_lookup_hashes_are_equal(cipher):
    value = "330302195001011234"
    first, second = cipher.encrypt(value), cipher.encrypt(value)
    assert first != second
    assert first[3:19] != second[3:19]  # the nonces themselves differ
    assert cipher.lookup_hash(value) == cipher.lookup_hash(value)
    assert re.fullmatch(r"[0-9a-f]{64}", cipher.lookup_hash(value))


def test_lookup_hash_tells_different_values_apart(cipher):
    assert cipher.lookup_hash("13812345678") != cipher.lookup_hash("13812345679")


def test_lookup_hash_is_of_the_normalised_value(cipher):
    assert cipher.lookup_hash(" 11010519491231002x ") == cipher.lookup_hash("11010519491231002X")


def test_lookup_hash_is_keyed_by_the_secret_and_not_a_plain_digest(cipher):
    value = "13812345678"
    assert cipher.lookup_hash(value) != FieldCipher(OTHER_SECRET).lookup_hash(value)
    assert cipher.lookup_hash(value) != hashlib.sha256(value.encode()).hexdigest()


def test_ciphertext_does_not_contain_the_plaintext(cipher):
    plaintext = "330302195001011234"
    token = cipher.encrypt(plaintext)
    body = token.removeprefix("v1:")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert plaintext not in token
    assert plaintext.encode() not in raw
    assert base64.urlsafe_b64encode(plaintext.encode()).decode().rstrip("=")[:12] not in token


def flip_one_character(token: str, position: int) -> str:
    original = token[position]
    replacement = "A" if original != "A" else "B"
    return token[:position] + replacement + token[position + 1 :]


@pytest.mark.parametrize("position", [3, 10, 20, -10, -1])
def test_tampered_token_is_refused(cipher, position):
    token = cipher.encrypt("330302195001011234")
    tampered = flip_one_character(token, position % len(token))
    with pytest.raises(FieldDecryptionError):
        cipher.decrypt(tampered)


def test_token_from_another_secret_is_refused(cipher):
    token = FieldCipher(OTHER_SECRET).encrypt("330302195001011234")
    with pytest.raises(FieldDecryptionError):
        cipher.decrypt(token)


@pytest.mark.parametrize(
    "make_bad",
    [
        lambda token: "",
        lambda token: token[3:],  # version prefix removed
        lambda token: "v2:" + token[3:],  # unknown version
        lambda token: token[:-5],  # truncated tag
        lambda token: token[:10],  # shorter than a nonce
        lambda token: "v1:",
        lambda token: token + "!",  # not base64url
        lambda token: token[:3] + "=" + token[3:],
        lambda token: token + "A",  # a bad base64 length
    ],
)
def test_malformed_token_is_refused(cipher, make_bad):
    with pytest.raises(FieldDecryptionError):
        cipher.decrypt(make_bad(cipher.encrypt("13812345678")))


def test_decryption_error_is_clear_and_does_not_echo_the_token(cipher):
    token = flip_one_character(cipher.encrypt("13812345678"), 20)
    with pytest.raises(FieldDecryptionError) as caught:
        cipher.decrypt(token)
    text = leaked_text(caught.value)
    assert "tampered" in str(caught.value)
    assert token not in text
    assert token[3:20] not in text


def test_cipher_repr_does_not_reveal_the_secret(cipher):
    assert SECRET.decode() not in repr(cipher)
    assert "secret" not in repr(cipher).lower()


def test_empty_root_secret_is_refused():
    with pytest.raises(ValueError, match="secret"):
        FieldCipher(b"")
