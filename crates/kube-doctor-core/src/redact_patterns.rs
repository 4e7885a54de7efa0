//! The provider token table the redactor uses: tokens whose shape alone says what they are
//! (`ghp_...`, `xoxb-...`, `AKIA...`). Every row is a reviewed adaptation of one rule of
//! gitleaks' maintained rule set, cited by rule id:
//!
//! - source: gitleaks `config/gitleaks.toml` at commit [`GITLEAKS_COMMIT`] (v8.30.0-27,
//!   2026-07-22), MIT licence. The table is not a copy: rows were chosen and rewritten by hand,
//!   and each pattern was re-checked against the rule's own description in
//!   `cmd/generate/config/rules/*.go` of the same commit.
//! - chosen: the rules keyed on a distinctive token prefix or URL (the shape is enough). Not
//!   taken: gitleaks' ~130 "vendor keyword near a value" rules (`twitter ... = <32 chars>`),
//!   which rely on entropy scoring of source code; the redactor's own context rules
//!   (`password=`, `--token`, `Authorization:`, URL userinfo, cookies) cover secrets next to
//!   such words in log lines without that guesswork.
//!
//! How each gitleaks pattern was adapted (so a reviewer can diff a row against its rule):
//! 1. Go RE2's `\w`, `\d` and `\b` are ASCII; Rust's are Unicode. Rows spell ASCII classes
//!    out (`[0-9A-Za-z_]`) or use `(?-u:\b)`.
//! 2. gitleaks' trailing context `(?:[\x60'"\s;]|\\[nr]|$)` is dropped: a redactor must also
//!    remove a token followed by `,`, `)`, `&` or an escape sequence. Leading `\b` is dropped
//!    where the prefix is long and distinctive (`ghp_`), since in coloured logs a token often
//!    follows an ANSI sequence ending in a letter; it is kept for short prefixes (`SK`, `s.`).
//! 3. Fixed-length bodies that vendors have since lengthened are open-ended (`glpat-` takes
//!    the routable form too), so no tail of a longer token survives.
//! 4. gitleaks' entropy thresholds are kept only where the prefix is short enough to collide
//!    with ordinary text ([`ProviderPattern::min_entropy`]).
//!
//! Rows whose `id` starts with `kube-doctor:` are not from gitleaks; their note says where the
//! format is documented.

/// The gitleaks commit the `gitleaks:` rows were reviewed against.
pub const GITLEAKS_COMMIT: &str = "b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b";

/// One provider token shape.
#[derive(Debug, Clone, Copy)]
pub struct ProviderPattern {
    /// `gitleaks:<rule id>` or `kube-doctor:<name>`; the part after the colon is the kind
    /// reported in the bundle's redaction counts.
    pub id: &'static str,
    /// Rust regex. When it has capture groups, the first group that took part in a match is
    /// the secret; otherwise the whole match is.
    pub pattern: &'static str,
    /// Minimum Shannon entropy (bits per character) of the secret, as gitleaks uses it, for
    /// rows whose prefix alone is too weak.
    pub min_entropy: Option<f32>,
    /// What was changed from the source rule, or where the format is documented.
    pub note: &'static str,
    /// Lowercase words of which every match holds at least one (compared ignoring ASCII
    /// case), so the redactor runs this row's regex only on text that holds one, as gitleaks
    /// does with its rules' keywords. Empty: always run. Checked by tests.
    pub keywords: &'static [&'static str],
}

impl ProviderPattern {
    /// The kind reported for matches of this row (the rule id without its source).
    pub fn kind(&self) -> &'static str {
        self.id.split_once(':').map_or(self.id, |(_, k)| k)
    }
}

const fn row(
    id: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    note: &'static str,
) -> ProviderPattern {
    ProviderPattern {
        id,
        pattern,
        min_entropy: None,
        note,
        keywords,
    }
}

const fn row_e(
    id: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    min_entropy: f32,
    note: &'static str,
) -> ProviderPattern {
    ProviderPattern {
        id,
        pattern,
        min_entropy: Some(min_entropy),
        note,
        keywords,
    }
}

/// The table. Order does not matter: overlapping matches are merged.
pub const PROVIDER_PATTERNS: &[ProviderPattern] = &[
    // --- AWS, Google, Azure, Alibaba
    row(
        "gitleaks:aws-access-token",
        &["a3t", "akia", "asia", "abia", "acca"],
        r"(?-u:\b)((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})",
        "trailing \\b dropped; AWS secret keys have no prefix and are caught by key=value rules",
    ),
    row(
        "gitleaks:gcp-api-key",
        &["aiza"],
        r"AIza[0-9A-Za-z_-]{35}",
        "\\w made ASCII; trailing context dropped",
    ),
    row(
        "kube-doctor:google-oauth-access-token",
        &["ya29."],
        r"ya29\.[0-9A-Za-z_-]{20,}",
        "Google OAuth 2.0 access tokens start with ya29. (Google Identity docs)",
    ),
    row(
        "kube-doctor:google-oauth-client-secret",
        &["gocspx-"],
        r"GOCSPX-[0-9A-Za-z_-]{24,}",
        "Google OAuth client secrets issued since 2021 start with GOCSPX-",
    ),
    row_e(
        "gitleaks:azure-ad-client-secret",
        &["q~"],
        r"(?:^|[\\'\x22\x60\s>=:(,)])([0-9A-Za-z_~.]{3}[0-9]Q~[0-9A-Za-z_~.-]{31,34})",
        3.0,
        "left context kept (the Q~ marker is short); right context dropped",
    ),
    row(
        "gitleaks:alibaba-access-key-id",
        &["ltai"],
        r"(?-u:\b)(LTAI[0-9A-Za-z]{20})",
        "(?i) on the body folded into an explicit class",
    ),
    // --- GitHub
    row(
        "gitleaks:github-pat",
        &["ghp_"],
        r"ghp_[0-9A-Za-z]{36,}",
        "open-ended body",
    ),
    row(
        "gitleaks:github-oauth",
        &["gho_"],
        r"gho_[0-9A-Za-z]{36,}",
        "open-ended body",
    ),
    row(
        "gitleaks:github-app-token",
        &["ghu_", "ghs_"],
        r"(?:ghu|ghs)_[0-9A-Za-z]{36,}",
        "open-ended body",
    ),
    row(
        "gitleaks:github-refresh-token",
        &["ghr_"],
        r"ghr_[0-9A-Za-z]{36,}",
        "open-ended body",
    ),
    row(
        "gitleaks:github-fine-grained-pat",
        &["github_pat_"],
        r"github_pat_[0-9A-Za-z_]{82,}",
        "\\w made ASCII; open-ended body",
    ),
    // --- GitLab
    row(
        "gitleaks:gitlab-pat",
        &["glpat-"],
        r"glpat-[0-9A-Za-z_.-]{20,}",
        "merges gitlab-pat and gitlab-pat-routable (dot and longer body)",
    ),
    row(
        "gitleaks:gitlab-runner-authentication-token",
        &["glrt-"],
        r"glrt-[0-9A-Za-z_.-]{20,}",
        "merges the routable form (glrt-t1_...)",
    ),
    row(
        "gitleaks:gitlab-cicd-job-token",
        &["glcbt-"],
        r"glcbt-[0-9A-Za-z]{1,5}_[0-9A-Za-z_-]{20,}",
        "open-ended body",
    ),
    row(
        "gitleaks:gitlab-deploy-token",
        &["gldt-"],
        r"gldt-[0-9A-Za-z_-]{20,}",
        "open-ended body",
    ),
    row(
        "gitleaks:gitlab-feed-token",
        &["glft-"],
        r"glft-[0-9A-Za-z_-]{20,}",
        "open-ended body",
    ),
    row(
        "gitleaks:gitlab-incoming-mail-token",
        &["glimt-"],
        r"glimt-[0-9A-Za-z_-]{25,}",
        "open-ended body",
    ),
    row(
        "gitleaks:gitlab-kubernetes-agent-token",
        &["glagent-"],
        r"glagent-[0-9A-Za-z_-]{50,}",
        "open-ended body",
    ),
    row(
        "gitleaks:gitlab-oauth-app-secret",
        &["gloas-"],
        r"gloas-[0-9A-Za-z_-]{64,}",
        "open-ended body",
    ),
    row(
        "gitleaks:gitlab-ptt",
        &["glptt-"],
        r"glptt-[0-9a-f]{40,}",
        "open-ended body",
    ),
    row(
        "gitleaks:gitlab-rrt",
        &["gr1348941"],
        r"GR1348941[0-9A-Za-z_-]{20,}",
        "\\w made ASCII; open-ended body",
    ),
    row(
        "gitleaks:gitlab-scim-token",
        &["glsoat-"],
        r"glsoat-[0-9A-Za-z_-]{20,}",
        "open-ended body",
    ),
    row(
        "gitleaks:gitlab-feature-flag-client-token",
        &["glffct-"],
        r"glffct-[0-9A-Za-z_-]{20,}",
        "open-ended body",
    ),
    row(
        "gitleaks:gitlab-session-cookie",
        &["_gitlab_session="],
        r"_gitlab_session=([0-9a-z]{32,})",
        "the value is the secret; open-ended",
    ),
    // --- Slack, Microsoft Teams, Discord
    row(
        "gitleaks:slack-bot-token",
        &["xoxb-"],
        r"xoxb-[0-9]{8,14}-[0-9A-Za-z-]{10,}",
        "merges slack-bot-token and slack-legacy-bot-token",
    ),
    row(
        "gitleaks:slack-user-token",
        &["xoxp-", "xoxe-"],
        r"xox[pe](?:-[0-9]{10,13}){3}-[0-9A-Za-z-]{28,}",
        "open-ended body",
    ),
    row(
        "gitleaks:slack-legacy-token",
        &["xoxo-", "xoxs-"],
        r"xox[os]-[0-9]+-[0-9]+-[0-9]+-[0-9A-Fa-f]+",
        "\\d made ASCII",
    ),
    row(
        "gitleaks:slack-legacy-workspace-token",
        &["xoxa-", "xoxr-"],
        r"xox[ar]-(?:[0-9]-)?[0-9A-Za-z]{8,}",
        "open-ended body",
    ),
    row(
        "gitleaks:slack-app-token",
        &["xapp-"],
        r"(?i)xapp-[0-9]-[A-Z0-9]+-[0-9]+-[a-z0-9]+",
        "\\d made ASCII",
    ),
    row(
        "gitleaks:slack-config-access-token",
        &["xoxe.xox"],
        r"(?i)xoxe\.xox[bp]-[0-9]-[A-Z0-9]{100,}",
        "the dot after xoxe escaped (gitleaks' `.` is any character); body open-ended",
    ),
    row(
        "gitleaks:slack-config-refresh-token",
        &["xoxe-"],
        r"(?i)xoxe-[0-9]-[A-Z0-9]{100,}",
        "body open-ended",
    ),
    row(
        "gitleaks:slack-webhook-url",
        &["hooks.slack.com/"],
        r"(?i)(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[0-9A-Za-z+/_-]{20,}",
        "dots escaped; lower bound relaxed from 43 so shortened or partial paths still go",
    ),
    row(
        "gitleaks:microsoft-teams-webhook",
        &[".webhook.office.com/webhookb2/"],
        r"(?i)https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[^\s\x22'<>]+",
        "everything after webhookb2/ is the secret, whatever its GUID layout",
    ),
    row(
        "kube-doctor:discord-webhook-url",
        &["/api/webhooks/"],
        r"(?i)https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{5,30}/[0-9A-Za-z_-]{20,}",
        "Discord webhook URLs carry their token in the path (Discord developer docs, Webhook resource)",
    ),
    // --- HashiCorp Vault
    row(
        "gitleaks:vault-service-token",
        &["hvs."],
        r"hvs\.[0-9A-Za-z_-]{90,}",
        "current form only; the legacy s. form is the next row",
    ),
    row_e(
        "gitleaks:vault-service-token-legacy",
        &["s."],
        r"(?-u:\b)(s\.[0-9A-Za-z]{24})(?-u:\b)",
        3.5,
        "legacy half of gitleaks' vault-service-token; prefix too short without entropy",
    ),
    row(
        "gitleaks:vault-batch-token",
        &["hvb."],
        r"hvb\.[0-9A-Za-z_-]{138,}",
        "open-ended body",
    ),
    row(
        "kube-doctor:vault-recovery-token",
        &["hvr."],
        r"hvr\.[0-9A-Za-z_-]{20,}",
        "Vault 1.10+ token prefixes hvs./hvb./hvr. (Vault docs, Tokens: token prefixes)",
    ),
    // --- Payments
    row(
        "gitleaks:stripe-access-token",
        &[
            "sk_test_", "sk_live_", "sk_prod_", "rk_test_", "rk_live_", "rk_prod_",
        ],
        r"(?:sk|rk)_(?:test|live|prod)_[0-9A-Za-z]{10,}",
        "open-ended body; leading \\b dropped",
    ),
    row(
        "kube-doctor:stripe-webhook-secret",
        &["whsec_"],
        r"whsec_[0-9A-Za-z]{20,}",
        "Stripe webhook signing secrets start with whsec_ (Stripe docs, webhooks)",
    ),
    row(
        "gitleaks:square-access-token",
        &["eaaa", "sq0atp-"],
        r"(?-u:\b)((?:EAAA|sq0atp-)[0-9A-Za-z_-]{22,})",
        "open-ended body",
    ),
    row(
        "gitleaks:shopify-access-token",
        &["shpat_", "shpca_", "shppa_", "shpss_"],
        r"shp(?:at|ca|pa|ss)_[0-9A-Fa-f]{32,}",
        "merges the four shopify rows (shpat, shpca, shppa, shpss)",
    ),
    // --- AI and package registries
    row(
        "gitleaks:anthropic-api-key",
        &["sk-ant-"],
        r"sk-ant-(?:api03|admin01)-[0-9A-Za-z_-]{80,}",
        "merges anthropic-api-key and -admin-api-key; the AA suffix is not required",
    ),
    row(
        "gitleaks:openai-api-key",
        &["sk-"],
        r"sk-(?:proj|svcacct|admin)-[0-9A-Za-z_-]{40,}|sk-[0-9A-Za-z]{20}T3BlbkFJ[0-9A-Za-z]{20,}",
        "project keys no longer always carry T3BlbkFJ: any long sk-proj- body is taken",
    ),
    row(
        "gitleaks:huggingface-access-token",
        &["hf_"],
        r"hf_[A-Za-z]{34,}",
        "open-ended body",
    ),
    row(
        "gitleaks:huggingface-organization-api-token",
        &["api_org_"],
        r"api_org_[A-Za-z]{34,}",
        "open-ended body",
    ),
    row(
        "gitleaks:perplexity-api-key",
        &["pplx-"],
        r"pplx-[0-9A-Za-z]{48,}",
        "open-ended body",
    ),
    row(
        "gitleaks:npm-access-token",
        &["npm_"],
        r"(?i)npm_[a-z0-9]{36,}",
        "open-ended body",
    ),
    row(
        "gitleaks:pypi-upload-token",
        &["pypi-ageichlwas5vcmc"],
        r"pypi-AgEIcHlwaS5vcmc[0-9A-Za-z_-]{50,}",
        "\\w made ASCII; no upper bound",
    ),
    row(
        "gitleaks:rubygems-api-token",
        &["rubygems_"],
        r"rubygems_[0-9a-f]{48,}",
        "open-ended body",
    ),
    row(
        "gitleaks:clojars-api-token",
        &["clojars_"],
        r"(?i)CLOJARS_[a-z0-9]{60,}",
        "open-ended body",
    ),
    row(
        "gitleaks:artifactory-api-key",
        &["akcp"],
        r"AKCp[0-9A-Za-z]{69,}",
        "leading \\b dropped (AKCp is distinctive)",
    ),
    row(
        "gitleaks:artifactory-reference-token",
        &["cmvmd"],
        r"(?-u:\b)(cmVmd[0-9A-Za-z]{59,})",
        "kept \\b: cmVmd is base64 of 'ref' and occurs inside other base64",
    ),
    // --- Platforms
    row(
        "gitleaks:digitalocean-pat",
        &["doo_v1_", "dop_v1_", "dor_v1_"],
        r"do[opr]_v1_[0-9a-f]{64,}",
        "merges the three digitalocean rows (doo/dop/dor_v1_)",
    ),
    row(
        "gitleaks:doppler-api-token",
        &["dp.pt."],
        r"dp\.pt\.[0-9A-Za-z]{43,}",
        "(?i) folded into the class",
    ),
    row(
        "gitleaks:dynatrace-api-token",
        &["dt0c01."],
        r"dt0c01\.[0-9A-Za-z]{24}\.[0-9A-Za-z]{64,}",
        "(?i) folded into the class",
    ),
    row(
        "gitleaks:databricks-api-token",
        &["dapi"],
        r"dapi[0-9a-f]{32}(?:-[0-9])?",
        "leading \\b dropped",
    ),
    row(
        "gitleaks:flyio-access-token",
        &["fo1_", "fm1", "fm2"],
        r"fo1_[0-9A-Za-z_-]{43,}|fm[12][ar]?_[0-9A-Za-z+/]{100,}={0,3}",
        "\\w made ASCII",
    ),
    row(
        "gitleaks:grafana-cloud-api-token",
        &["glc_"],
        r"glc_[0-9A-Za-z+/]{32,}={0,3}",
        "no upper bound",
    ),
    row(
        "gitleaks:grafana-service-account-token",
        &["glsa_"],
        r"glsa_[0-9A-Za-z]{32}_[0-9A-Fa-f]{8}",
        "as is",
    ),
    row(
        "gitleaks:grafana-api-key",
        &["eyjrijoi"],
        r"eyJrIjoi[0-9A-Za-z]{70,}={0,3}",
        "no upper bound",
    ),
    row(
        "gitleaks:heroku-api-key-v2",
        &["hrku-aa"],
        r"HRKU-AA[0-9A-Za-z_-]{58,}",
        "open-ended body",
    ),
    row(
        "gitleaks:linear-api-key",
        &["lin_api_"],
        r"lin_api_[0-9A-Za-z]{40,}",
        "(?i) folded into the class",
    ),
    row(
        "gitleaks:postman-api-token",
        &["pmak-"],
        r"PMAK-[0-9A-Fa-f]{24}-[0-9A-Fa-f]{34,}",
        "(?i) folded into the class",
    ),
    row(
        "gitleaks:pulumi-api-token",
        &["pul-"],
        r"pul-[0-9a-f]{40,}",
        "open-ended body",
    ),
    row(
        "gitleaks:sendgrid-api-token",
        &["sg."],
        r"(?-u:\b)(SG\.[0-9A-Za-z=_.-]{66,})",
        "kept \\b (SG. is short)",
    ),
    row(
        "gitleaks:sendinblue-api-token",
        &["xkeysib-"],
        r"xkeysib-[0-9a-f]{64}-[0-9A-Za-z]{16,}",
        "open-ended body",
    ),
    row(
        "gitleaks:sentry-user-token",
        &["sntryu_", "sntrys_"],
        r"sntry[us]_[0-9A-Za-z+/=_]{40,}",
        "merges sentry-user-token and the org token (sntrys_), simplified to the prefix",
    ),
    row_e(
        "gitleaks:twilio-api-key",
        &["sk"],
        r"(?-u:\b)(SK[0-9A-Fa-f]{32})(?-u:\b)",
        3.0,
        "boundaries added: SK plus hex is otherwise common inside identifiers",
    ),
    row(
        "gitleaks:1password-service-account-token",
        &["ops_eyj"],
        r"ops_eyJ[0-9A-Za-z+/]{100,}={0,3}",
        "lower bound relaxed from 250",
    ),
    row(
        "gitleaks:age-secret-key",
        &["age-secret-key-1"],
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        "as is",
    ),
    row(
        "gitleaks:planetscale-api-token",
        &["pscale_tkn_", "pscale_oauth_", "pscale_pw_"],
        r"pscale_(?:tkn|oauth|pw)_[0-9A-Za-z_=.-]{32,}",
        "merges the three planetscale rows",
    ),
    row(
        "gitleaks:prefect-api-token",
        &["pnu_"],
        r"pnu_[0-9A-Za-z]{36,}",
        "open-ended body",
    ),
    row(
        "gitleaks:notion-api-token",
        &["ntn_"],
        r"ntn_[0-9]{11}[0-9A-Za-z]{35,}",
        "open-ended body",
    ),
    row(
        "gitleaks:infracost-api-token",
        &["ico-"],
        r"ico-[0-9A-Za-z]{32,}",
        "open-ended body",
    ),
    // --- Kubernetes and OpenShift
    row(
        "gitleaks:openshift-user-token",
        &["sha256~"],
        r"sha256~[0-9A-Za-z_-]{43,}",
        "\\w made ASCII; open-ended",
    ),
    row(
        "kube-doctor:bootstrap-token",
        &[],
        r"(?-u:\b)([a-z0-9]{6}\.[a-z0-9]{16})(?-u:\b)",
        "kubeadm bootstrap tokens [a-z0-9]{6}.[a-z0-9]{16} (Kubernetes docs, Authenticating with Bootstrap Tokens); the secret half must hold a digit",
    ),
];
