//! Inputs the fuzz targets (fuzz/fuzz_targets/) found to break a property, kept as ordinary
//! tests so the fix stays. Each names its target and what went wrong.

use kube_doctor_core::redact::{redact, redact_truncated};

/// fuzz target `redact`: a written-out escape sequence `\u001b[` directly followed by a JSON
/// escape `\t` took the backslash as the sequence's final byte, so the `t` stayed glued to
/// the AWS key after it and the key's word boundary was never seen.
#[test]
fn escaped_ansi_before_a_json_escape_does_not_hide_a_key() {
    let line = "\"\\\\\\t\\u0000\\u001b[\\tAKIAVPPPPPPPPPPPPPPP\\t\"";
    let (out, _) = redact(line);
    assert!(!out.contains("AKIAVPPPPPPPPPPPPPPP"), "{out}");
    let (out, _) = redact_truncated(line, 30);
    assert!(!out.contains("AKIAV"), "{out}");
}

/// fuzz target `redact`: a password starting with `>` right after `pw=` was read as the
/// separator `=>` and its first character survived a cut.
#[test]
fn a_value_after_an_arrow_like_separator_loses_its_first_character_too() {
    let line = "E#+\n\0E\0\0 pw=>secretvalue";
    let (out, _) = redact(line);
    assert_eq!(out, "E#+\n\0E\0\0 pw=[REDACTED:credential value]");
    // Ruby and PHP style arrows with a quoted value are still read as separators.
    let (out, _) = redact(r#":password => "hunter22""#);
    assert_eq!(out, r#":password => "[REDACTED:credential value]""#);
}

/// fuzz target `redact`: a key=value match rejected because its key names metadata
/// (`…enabled:`) swallowed the real `password=` pair in its value, which was never looked at.
#[test]
fn a_rejected_key_does_not_hide_the_pair_inside_its_value() {
    let (out, _) = redact("_apasswdenabled: password=6Cwu)bvvMMMN  BeaRpa");
    assert!(!out.contains("6Cwu"), "{out}");
    assert_eq!(
        out,
        "_apasswdenabled: password=[REDACTED:credential value]  BeaRpa"
    );
}
