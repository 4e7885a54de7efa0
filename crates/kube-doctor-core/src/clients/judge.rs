//! The one place that decides whether a client is over the threshold, when its errors began,
//! whether they are steady or come and go, and whether they are expected noise. The
//! collector (for the view it writes into the bundle and to pick the clients it investigates
//! in depth), `kube-doctor clients` and diagnosis all call [`judge`]; nothing else compares a
//! ratio with the threshold.
//!
//! **Onset** is when the non-2xx ratio first exceeded the threshold *in a sustained way*: the
//! end of the first interval of the last run of intervals over the threshold that reaches the
//! alert's crossing (at most one sample interval after the errors began). A run bridges
//! stretches of clean traffic of at most [`ONSET_MAX_GAP`] (one minute, or two sampling
//! intervals if longer), so errors that come and go every few seconds are one run; an error
//! separated from the run by a longer clean stretch (one stray 404 minutes before the
//! sustained failure, still inside the alert's 5-minute rate window) does not set the onset.
//! **Pattern**: among intervals from onset on that carried traffic, the share over the
//! threshold is the *coverage*. At least `min_intervals` intervals with coverage of
//! [`CONSISTENT_COVERAGE`] or more is `consistent` (a standing cause: configuration,
//! credentials, policy); anything else that crossed the threshold is `intermittent` (a
//! transient cause). **Noise**: every error code is 404 (existence checks answered "not
//! found") or 409 (optimistic concurrency), or a handful of errors on a client with very
//! little traffic.
//!
//! **Episodes** follow the alert: at each point the error ratio over the rule's rate window
//! (`rate(...[5m])` in kubernetes-mixin's KubeClientErrors) is compared with the threshold,
//! so a client whose errors come and go is failing whenever the alert's own expression is
//! over, even if the whole window's ratio is not. Consecutive points over the threshold are
//! one episode; an episode still over at the end of the series is *live*, earlier ones are
//! history. The onset is the live episode's start (else the latest episode's).

use jiff::{SignedDuration, Timestamp};

use crate::bundle::{ClientRates, Episode, Noise, Pattern, PatternStat, RatioPoint};

/// The rate window of the upstream KubeClientErrors rule (kubernetes-mixin,
/// `alerts/kube_apiserver.libsonnet`: `rate(rest_client_requests_total[5m])`).
pub const RULE_RATE_WINDOW: SignedDuration = SignedDuration::from_mins(5);

/// At most this many errors, on a client averaging less than [`LOW_TRAFFIC_RATE`] requests a
/// second, is noise: a ratio over 1 % made of a handful of requests.
pub const LOW_TRAFFIC_ERRORS: f64 = 5.0;
/// Requests a second below which a client has "very little traffic" (one every 10 s).
pub const LOW_TRAFFIC_RATE: f64 = 0.1;

/// The longest stretch of traffic under the threshold that still joins two intervals over it
/// into one sustained run when dating an onset (or two sampling intervals, if longer): errors
/// that come and go every few seconds are one run, an isolated error minutes earlier is not.
pub const ONSET_MAX_GAP: SignedDuration = SignedDuration::from_secs(60);

/// Share of intervals over the threshold that makes errors consistent.
pub const CONSISTENT_COVERAGE: f64 = 0.8;

/// An error ratio above which a client fails: strictly between 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Threshold(f64);

/// Why a threshold was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{0} is not a ratio between 0 and 1 (exclusive): give one like 0.01, the KubeClientErrors alert's 1 %"
)]
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
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// Over the threshold: over the whole window, or in at least one episode.
    pub over: bool,
    /// When errors were first over the threshold in the live episode (else in the latest).
    pub onset: Option<Timestamp>,
    /// The episodes, oldest first.
    pub episodes: Vec<Episode>,
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

    /// Whether its errors are over the threshold now (an episode goes on at the end), or only
    /// were (every episode ended). `true` when the series cannot say (no series).
    pub fn live(&self) -> bool {
        self.episodes.is_empty() || self.episodes.iter().any(|e| e.end.is_none())
    }
}

/// Judges one client's measurements at `threshold`; `min_intervals` is the rate source's
/// (`ClientsEvidence::min_intervals`). Episodes over the rule's own [`RULE_RATE_WINDOW`].
pub fn judge(c: &ClientRates, threshold: Threshold, min_intervals: u32) -> Judgement {
    judge_over(c, threshold, min_intervals, RULE_RATE_WINDOW)
}

/// [`judge`] with the alert rule's rate window given.
pub fn judge_over(
    c: &ClientRates,
    threshold: Threshold,
    min_intervals: u32,
    rate_window: SignedDuration,
) -> Judgement {
    let episodes = episodes(&c.series, threshold, rate_window);
    let onset = episodes
        .iter()
        .rev()
        .find(|e| e.end.is_none())
        .or(episodes.last())
        .map(|e| e.start)
        .or_else(|| {
            // No episode to date them by: the start of the last sustained run of intervals
            // over the threshold, if any.
            let last = c.series.len().checked_sub(1)?;
            sustained_start(&c.series, 0, last, threshold).map(|j| c.series[j].at)
        });
    let (pattern, pattern_stat) = pattern(&c.series, onset, threshold, min_intervals);
    Judgement {
        over: threshold.exceeded_by(c.ratios.non_2xx) || !episodes.is_empty(),
        onset,
        episodes,
        pattern,
        pattern_stat,
        noise: noise(c),
    }
}

/// Why a client's errors are expected, from its codes and traffic alone (watch reconnects
/// need its logs: diagnosis adds them).
pub fn noise(c: &ClientRates) -> Option<Noise> {
    let errors: Vec<(&str, f64)> = c
        .codes
        .iter()
        .filter(|(code, n)| !code.starts_with('2') && **n > 0.0)
        .map(|(code, n)| (code.as_str(), *n))
        .collect();
    if errors.is_empty() {
        return None;
    }
    if errors.iter().all(|(code, _)| *code == "404") {
        return Some(Noise::NotFoundChecks);
    }
    if errors.iter().all(|(code, _)| *code == "409") {
        return Some(Noise::Conflicts);
    }
    if errors
        .iter()
        .all(|(code, _)| matches!(*code, "404" | "409"))
    {
        return Some(Noise::NotFoundAndConflicts);
    }
    let total: f64 = errors.iter().map(|(_, n)| n).sum();
    (total <= LOW_TRAFFIC_ERRORS && c.request_rate < LOW_TRAFFIC_RATE).then_some(Noise::LowTraffic)
}

/// The episodes of a series. Whether a client is over the threshold at a point is the alert's
/// question: the non-2xx ratio over the `rate_window` ending there. When an episode began and
/// ended is the errors' own time: its start is the first interval of the sustained run of
/// intervals over the threshold that leads to the crossing, within the rate window before it
/// (the alert crosses later than the errors begin when they are few; a stray error earlier in
/// that window, separated by more than [`ONSET_MAX_GAP`] of clean traffic, is not the start),
/// its end the last interval over the threshold in it; `end` is `None` while the
/// alert's ratio is still over at the series' last point.
pub fn episodes(
    series: &[RatioPoint],
    threshold: Threshold,
    rate_window: SignedDuration,
) -> Vec<Episode> {
    // The alert's ratio at each point.
    let mut rolling = Vec::with_capacity(series.len());
    let (mut req, mut err) = (0.0, 0.0);
    let mut tail = 0;
    for (i, p) in series.iter().enumerate() {
        req += p.requests;
        err += p.errors;
        while tail < i && series[tail].at <= p.at - rate_window {
            req -= series[tail].requests;
            err -= series[tail].errors;
            tail += 1;
        }
        let ratio = if req > 0.0 { err / req } else { 0.0 };
        rolling.push((req > 0.0 && threshold.exceeded_by(ratio), ratio));
    }
    let point_over = |p: &RatioPoint| p.requests > 0.0 && threshold.exceeded_by(p.ratio());
    let mut out = Vec::new();
    let mut i = 0;
    let mut floor = 0; // the first index a new episode may claim
    while i < series.len() {
        if !rolling[i].0 {
            i += 1;
            continue;
        }
        let crossing = i;
        while i < series.len() && rolling[i].0 {
            i += 1;
        }
        let last = i - 1;
        let lookback = series[crossing].at - rate_window;
        let first = (floor..=crossing)
            .find(|&j| series[j].at > lookback)
            .unwrap_or(crossing);
        let start = sustained_start(series, first, crossing, threshold).unwrap_or(crossing);
        let ongoing = last == series.len() - 1;
        let end = (start..=last)
            .rev()
            .find(|&j| point_over(&series[j]))
            .unwrap_or(last);
        out.push(Episode {
            start: series[start].at,
            end: (!ongoing).then(|| series[end].at),
            peak_ratio: rolling[crossing..=last]
                .iter()
                .map(|r| r.1)
                .fold(0.0, f64::max),
        });
        floor = last + 1;
    }
    out
}

/// The start of the sustained run of intervals over the threshold that ends at the last such
/// interval in `series[from..=to]`, or `None` when none is over. Walking back from that
/// interval, the run bridges stretches of traffic under the threshold of at most
/// [`ONSET_MAX_GAP`] (or two sampling intervals, if longer) between two intervals over it, so
/// errors that come and go every few seconds are one run; a longer stretch of clean traffic
/// ends it, and anything over the threshold before that stretch (an isolated early 404, a
/// stray timeout) is not the onset. Intervals without traffic neither extend nor end a run.
fn sustained_start(
    series: &[RatioPoint],
    from: usize,
    to: usize,
    threshold: Threshold,
) -> Option<usize> {
    let over = |p: &RatioPoint| p.requests > 0.0 && threshold.exceeded_by(p.ratio());
    let last = (from..=to).rev().find(|&j| over(&series[j]))?;
    let sampling = series
        .windows(2)
        .map(|w| w[1].at.duration_since(w[0].at))
        .filter(|d| d.is_positive())
        .min()
        .unwrap_or(SignedDuration::ZERO);
    let max_gap = ONSET_MAX_GAP.max(sampling * 2);
    let mut start = last;
    let mut clean_between = false;
    for j in (from..last).rev() {
        let p = &series[j];
        let gap = series[start].at.duration_since(p.at);
        if clean_between && gap > max_gap {
            break;
        }
        if over(p) {
            start = j;
            clean_between = false;
        } else if p.requests > 0.0 {
            clean_between = true;
        }
    }
    Some(start)
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
        let seconds = (points.len() as f64 * 10.0).max(10.0);
        ClientRates {
            id: "j/i".into(),
            job: "j".into(),
            instance: "i".into(),
            target: Target::Unknown,
            requests,
            request_rate: requests / seconds,
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
    fn errors_that_come_and_go_are_episodes_as_the_alert_sees_them() {
        // Points 10 s apart over 15 minutes: one 10 s burst of 40 % errors at 2 minutes,
        // another at the end. The whole window's ratio is under 1 %; the alert's 5-minute
        // ratio (400 of 30,000 requests: 1.3 %) is over it while a burst is in its window.
        let mut pts = Vec::new();
        for i in 0..90 {
            pts.push((1000.0, if i == 12 || i == 89 { 400.0 } else { 0.0 }));
        }
        let c = client(&pts, &[("200", 89_200.0), ("500", 800.0)]);
        assert!(c.ratios.non_2xx < 0.01);
        let j = judge(&c, Threshold::ALERT, 3);
        assert!(
            j.over && j.failing(),
            "failing while the alert's expression is over"
        );
        assert_eq!(j.episodes.len(), 2, "{:?}", j.episodes);
        let (past, live) = (j.episodes[0], j.episodes[1]);
        assert_eq!(past.start, t(120));
        assert_eq!(past.end, Some(t(120)), "its errors ended with the burst");
        // At its crossing the window holds the 13 points since the series began.
        assert!(
            (past.peak_ratio - 400.0 / 13_000.0).abs() < 1e-9,
            "{}",
            past.peak_ratio
        );
        assert_eq!(live.start, t(890));
        assert_eq!(live.end, None);
        assert!(j.live());
        assert_eq!(j.onset, Some(t(890)), "the onset is the live episode's");
        // At a 5 % threshold neither burst fires the alert.
        assert!(!judge(&c, Threshold::new(0.05).unwrap(), 3).over);
    }

    #[test]
    fn an_isolated_early_error_is_not_the_onset() {
        // Points 10 s apart, 100 requests each. One stray 404 burst at 150 s (5 % of that
        // interval, too little to move the alert's 5-minute ratio), clean traffic for two and
        // a half minutes, then 403s on half the requests from 300 s on: the alert crosses at
        // 300 s with the stray still inside its rate window.
        let mut pts = vec![(100.0, 0.0); 45];
        pts[15].1 = 5.0;
        for p in &mut pts[30..] {
            p.1 = 50.0;
        }
        let c = client(&pts, &[("200", 3_745.), ("404", 5.), ("403", 750.)]);
        let j = judge(&c, Threshold::ALERT, 3);
        assert_eq!(j.episodes.len(), 1, "{:?}", j.episodes);
        assert_eq!(
            j.onset,
            Some(t(300)),
            "the onset is where the sustained failure began, not the stray at 150 s"
        );
        assert_eq!(j.pattern, Pattern::Consistent);
        assert!((j.pattern_stat.coverage - 1.0).abs() < 1e-9);
        // Without an episode to date it by (a whole-window ratio over, a rolling one not),
        // the same rule applies.
        let mut pts = pts[..33].to_vec();
        pts[15].1 = 50.0;
        let c = client(&pts, &[("200", 3_100.), ("404", 50.), ("403", 150.)]);
        let j = judge(&c, Threshold::new(0.4).unwrap(), 3);
        assert!(j.episodes.is_empty(), "{:?}", j.episodes);
        assert_eq!(j.onset, Some(t(300)));
    }

    #[test]
    fn errors_that_come_and_go_within_a_minute_are_one_run() {
        // 20 s of errors, 20 s without, from 100 s on (the lab's `flapping`, sampled every
        // 10 s), after a clean start: the onset is the first burst, not the last before the
        // alert crossed.
        // Each burst is 4 % of its interval, so the alert's 5-minute ratio crosses 1 % only
        // at the fifth burst (180 s).
        let mut pts = vec![(100.0, 0.0); 40];
        for (i, p) in pts.iter_mut().enumerate().skip(10) {
            if (i - 10) % 4 < 2 {
                p.1 = 4.0;
            }
        }
        let c = client(&pts, &[("200", 3_940.), ("403", 60.)]);
        let j = judge(&c, Threshold::ALERT, 3);
        assert_eq!(j.episodes.len(), 1, "{:?}", j.episodes);
        assert_eq!(j.onset, Some(t(100)), "{:?}", j.episodes);
    }

    #[test]
    fn a_client_that_recovered_is_not_live() {
        let c = client(
            &[(100., 0.), (100., 50.), (100., 50.), (100., 0.), (100., 0.)],
            &[("200", 400.), ("500", 100.)],
        );
        let j = judge_over(&c, Threshold::ALERT, 3, SignedDuration::from_secs(10));
        assert_eq!(j.episodes.len(), 1);
        assert_eq!(j.episodes[0].start, t(10));
        assert_eq!(j.episodes[0].end, Some(t(20)));
        assert!(!j.live());
    }

    #[test]
    fn conflicts_and_a_handful_of_errors_on_little_traffic_are_noise() {
        let c = client(&[(10., 5.)], &[("200", 5.), ("409", 5.)]);
        assert_eq!(judge(&c, Threshold::ALERT, 3).noise, Some(Noise::Conflicts));
        // A controller's create-if-absent and update-and-retry: 404s and 409s together.
        let c = client(&[(10., 5.)], &[("200", 5.), ("404", 3.), ("409", 2.)]);
        let j = judge(&c, Threshold::ALERT, 3);
        assert_eq!(j.noise, Some(Noise::NotFoundAndConflicts));
        assert!(!j.failing());
        // With a 500 among them it is not noise.
        let c = client(&[(10., 5.)], &[("200", 5.), ("404", 3.), ("500", 2.)]);
        assert_eq!(judge(&c, Threshold::ALERT, 3).noise, None);
        let mut c = client(&[(20., 2.)], &[("200", 18.), ("500", 2.)]);
        c.request_rate = 0.02;
        assert_eq!(
            judge(&c, Threshold::ALERT, 3).noise,
            Some(Noise::LowTraffic)
        );
        c.request_rate = 5.0;
        assert_eq!(judge(&c, Threshold::ALERT, 3).noise, None);
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
