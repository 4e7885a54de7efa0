//! The one place that decides whether a client is over the threshold, when its errors began,
//! whether they are steady or come and go, and whether they are expected noise. The
//! collector (for the view it writes into the bundle and to pick the clients it investigates
//! in depth), `kube-doctor clients` and diagnosis all call [`judge`]; nothing else compares a
//! ratio with the threshold.
//!
//! **Onset** is the end of the first interval whose non-2xx ratio exceeds the threshold: the
//! moment the errors were first observed, at most one sample interval after they began.
//! **Pattern**: among intervals from onset on that carried traffic, the share over the
//! threshold is the *coverage*. At least `min_intervals` intervals with coverage of
//! [`CONSISTENT_COVERAGE`] or more is `consistent` (a standing cause: configuration,
//! credentials, policy); anything else that crossed the threshold is `intermittent` (a
//! transient cause). **Noise**: every error code is 404 (existence checks answered "not
//! found").

use jiff::Timestamp;

use crate::bundle::{ClientRates, Noise, Pattern, PatternStat, RatioPoint};

/// Share of intervals over the threshold that makes errors consistent.
pub const CONSISTENT_COVERAGE: f64 = 0.8;

/// An error ratio above which a client fails: strictly between 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Threshold(f64);

/// Why a threshold was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0} is not a ratio between 0 and 1 (the KubeClientErrors alert uses 0.01)")]
pub struct ThresholdError(pub f64);

impl Threshold {
    /// The KubeClientErrors alert's threshold: 1 % (kubernetes-mixin `> 0.01`).
    pub const ALERT: Threshold = Threshold(0.01);

    /// A threshold; errors unless `0 < ratio < 1`.
    pub fn new(ratio: f64) -> Result<Threshold, ThresholdError> {
        if ratio.is_finite() && ratio > 0.0 && ratio < 1.0 {
            Ok(Threshold(ratio))
        } else {
            Err(ThresholdError(ratio))
        }
    }

    /// The ratio.
    pub fn ratio(self) -> f64 {
        self.0
    }

    /// Whether `ratio` is over the threshold (strictly, as the alert's `>`).
    pub fn exceeded_by(self, ratio: f64) -> bool {
        ratio > self.0
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold::ALERT
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1} %", self.0 * 100.0)
    }
}

/// What [`judge`] concluded about one client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    /// Its non-2xx ratio over the window is over the threshold.
    pub over: bool,
    /// When errors were first over the threshold.
    pub onset: Option<Timestamp>,
    /// Consistent, intermittent or none.
    pub pattern: Pattern,
    /// The numbers behind `pattern`.
    pub pattern_stat: PatternStat,
    /// Why its errors are expected, if they are.
    pub noise: Option<Noise>,
}

impl Judgement {
    /// Over the threshold and not noise: a client to investigate.
    pub fn failing(&self) -> bool {
        self.over && self.noise.is_none()
    }
}

/// Judges one client's measurements at `threshold`; `min_intervals` is the rate source's
/// (`ClientsEvidence::min_intervals`).
pub fn judge(c: &ClientRates, threshold: Threshold, min_intervals: u32) -> Judgement {
    let onset = c
        .series
        .iter()
        .find(|p| p.requests > 0.0 && threshold.exceeded_by(p.ratio()))
        .map(|p| p.at);
    let (pattern, pattern_stat) = pattern(&c.series, onset, threshold, min_intervals);
    let mut error_codes = c
        .codes
        .iter()
        .filter(|(code, n)| !code.starts_with('2') && **n > 0.0)
        .peekable();
    let noise = (error_codes.peek().is_some() && error_codes.all(|(code, _)| code == "404"))
        .then_some(Noise::NotFoundChecks);
    Judgement {
        over: threshold.exceeded_by(c.ratios.non_2xx),
        onset,
        pattern,
        pattern_stat,
        noise,
    }
}

fn pattern(
    series: &[RatioPoint],
    onset: Option<Timestamp>,
    threshold: Threshold,
    min_intervals: u32,
) -> (Pattern, PatternStat) {
    let Some(onset) = onset else {
        return (Pattern::None, PatternStat::default());
    };
    let since: Vec<&RatioPoint> = series
        .iter()
        .filter(|p| p.at >= onset && p.requests > 0.0)
        .collect();
    let with_traffic = since.len() as u32;
    let over = since
        .iter()
        .filter(|p| threshold.exceeded_by(p.ratio()))
        .count() as u32;
    let coverage = if with_traffic > 0 {
        f64::from(over) / f64::from(with_traffic)
    } else {
        0.0
    };
    let stat = PatternStat {
        intervals_with_traffic: with_traffic,
        intervals_over_threshold: over,
        coverage,
    };
    let p = if with_traffic >= min_intervals && coverage >= CONSISTENT_COVERAGE {
        Pattern::Consistent
    } else {
        Pattern::Intermittent
    };
    (p, stat)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::bundle::{ErrorRatios, Target};

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn client(points: &[(f64, f64)], codes: &[(&str, f64)]) -> ClientRates {
        let series: Vec<RatioPoint> = points
            .iter()
            .enumerate()
            .map(|(i, (req, err))| RatioPoint {
                at: t(i as i64 * 10),
                requests: *req,
                errors: *err,
                server_errors: 0.0,
                transport_errors: 0.0,
            })
            .collect();
        let requests: f64 = points.iter().map(|p| p.0).sum();
        let errors: f64 = points.iter().map(|p| p.1).sum();
        ClientRates {
            id: "j/i".into(),
            job: "j".into(),
            instance: "i".into(),
            target: Target::Unknown,
            requests,
            request_rate: 0.0,
            ratios: ErrorRatios {
                server_5xx: 0.0,
                non_2xx: errors / requests,
                transport: 0.0,
            },
            codes: codes.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            onset: None,
            pattern: Pattern::None,
            pattern_stat: PatternStat::default(),
            categories: BTreeMap::new(),
            noise: None,
            by_host: Vec::new(),
            series,
            user: None,
            user_agent: None,
        }
    }

    #[test]
    fn thresholds_are_ratios() {
        assert!(Threshold::new(0.01).is_ok());
        for bad in [0.0, 1.0, -0.1, 2.0, f64::NAN, f64::INFINITY] {
            let e = Threshold::new(bad).unwrap_err();
            assert!(e.to_string().contains("between 0 and 1"), "{e}");
        }
        assert!(Threshold::ALERT.exceeded_by(0.0101));
        assert!(
            !Threshold::ALERT.exceeded_by(0.01),
            "strictly over, as the rule's >"
        );
    }

    #[test]
    fn onset_and_pattern_depend_on_the_threshold() {
        // 2 % errors from the third interval on, 6 % in the last two.
        let c = client(
            &[
                (100., 0.),
                (100., 0.),
                (100., 2.),
                (100., 2.),
                (100., 6.),
                (100., 6.),
            ],
            &[("200", 584.), ("500", 16.)],
        );
        let at_1 = judge(&c, Threshold::new(0.01).unwrap(), 3);
        assert_eq!(at_1.onset, Some(t(20)));
        assert_eq!(at_1.pattern, Pattern::Consistent);
        assert!(at_1.failing());
        let at_5 = judge(&c, Threshold::new(0.05).unwrap(), 3);
        assert_eq!(at_5.onset, Some(t(40)));
        assert_eq!(at_5.pattern_stat.intervals_with_traffic, 2);
        assert_eq!(
            at_5.pattern,
            Pattern::Intermittent,
            "two intervals are too few"
        );
        assert!(!at_5.over, "16 of 600 is 2.7 %, under 5 %");
        assert!(!at_5.failing());
    }

    #[test]
    fn only_404s_are_noise_and_noise_is_not_failing() {
        let c = client(&[(10., 5.), (10., 5.)], &[("200", 10.), ("404", 10.)]);
        let j = judge(&c, Threshold::ALERT, 3);
        assert!(j.over);
        assert_eq!(j.noise, Some(Noise::NotFoundChecks));
        assert!(!j.failing());
        let c = client(&[(10., 5.)], &[("200", 5.), ("404", 4.), ("403", 1.)]);
        assert_eq!(judge(&c, Threshold::ALERT, 3).noise, None);
        let c = client(&[(10., 0.)], &[("200", 10.)]);
        assert_eq!(
            judge(&c, Threshold::ALERT, 3).noise,
            None,
            "no errors, no noise"
        );
    }
}
