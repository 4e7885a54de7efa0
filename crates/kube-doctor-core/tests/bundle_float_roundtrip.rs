//! Found by fuzzing (fuzz/fuzz_targets/bundle_from_json.rs): a bundle whose counters held
//! 5.555555555555555e106 read back as 5.555555555555556e106 after `collect` wrote it, because
//! serde_json's default float parser is not correctly rounded. With its `float_roundtrip`
//! feature a written bundle reads back equal, so `diagnose` sees exactly what `collect` saw.

#[test]
fn floats_survive_a_write_and_read() {
    for text in [
        "5.555555555555555e106",
        "0.30000000000000004",
        "1.7976931348623157e308",
        "4.9e-324",
    ] {
        let x: f64 = serde_json::from_str(text).unwrap();
        let written = serde_json::to_string(&x).unwrap();
        let back: f64 = serde_json::from_str(&written).unwrap();
        assert_eq!(x.to_bits(), back.to_bits(), "{text} -> {written}");
    }
}
