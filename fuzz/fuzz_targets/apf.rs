//! FlowSchema matching (step 8) on schemas and requests built by the fuzzer. Properties:
//! never panics; the schema chosen does not depend on the order schemas were listed in;
//! no matching schema has a lower precedence than the one chosen.
#![no_main]

use arbitrary::Arbitrary;
use kube_doctor_core::apf::{Request, default_groups, match_flow_schema};
use kube_doctor_core::bundle::{FlowResourceRule, FlowRule, FlowSchemaInfo, FlowSubject};
use libfuzzer_sys::fuzz_target;

fn word(i: u8) -> String {
    [
        "*",
        "get",
        "list",
        "pods",
        "",
        "demo",
        "apps",
        "system:serviceaccount:demo:app",
        "app",
        "system:authenticated",
    ][usize::from(i % 10)]
    .to_string()
}

fn words(v: &[u8]) -> Vec<String> {
    v.iter().map(|i| word(*i)).collect()
}

#[derive(Arbitrary, Debug)]
struct In {
    user: Result<u8, String>,
    groups: Vec<u8>,
    verb: u8,
    api_group: u8,
    resource: u8,
    namespace: Option<u8>,
    schemas: Vec<S>,
}

#[derive(Arbitrary, Debug)]
struct S {
    precedence: i32,
    rules: Vec<(Vec<Subj>, Vec<RR>)>,
}

#[derive(Arbitrary, Debug)]
enum Subj {
    User(u8),
    Group(u8),
    Sa(u8, u8),
}

#[derive(Arbitrary, Debug)]
struct RR {
    verbs: Vec<u8>,
    groups: Vec<u8>,
    resources: Vec<u8>,
    namespaces: Vec<u8>,
    cluster: bool,
}

fuzz_target!(|input: In| {
    let schemas: Vec<FlowSchemaInfo> = input
        .schemas
        .iter()
        .enumerate()
        .map(|(i, s)| FlowSchemaInfo {
            // Distinct names: ties in precedence are broken by name, as the API server does.
            name: format!("fs-{i}"),
            precedence: s.precedence,
            priority_level: format!("pl-{i}"),
            distinguisher: None,
            created_at: None,
            rules: s
                .rules
                .iter()
                .map(|(subjects, rr)| FlowRule {
                    subjects: subjects
                        .iter()
                        .map(|s| match s {
                            Subj::User(n) => FlowSubject::User { name: word(*n) },
                            Subj::Group(n) => FlowSubject::Group { name: word(*n) },
                            Subj::Sa(ns, n) => FlowSubject::ServiceAccount {
                                namespace: word(*ns),
                                name: word(*n),
                            },
                        })
                        .collect(),
                    resource_rules: rr
                        .iter()
                        .map(|r| FlowResourceRule {
                            verbs: words(&r.verbs),
                            api_groups: words(&r.groups),
                            resources: words(&r.resources),
                            namespaces: words(&r.namespaces),
                            cluster_scope: r.cluster,
                        })
                        .collect(),
                    non_resource_rules: vec![],
                })
                .collect(),
        })
        .collect();
    let user = match &input.user {
        Ok(i) => word(*i),
        Err(s) => s.clone(),
    };
    let mut groups = words(&input.groups);
    groups.extend(default_groups(&user));
    let ns = input.namespace.map(word);
    let (verb, api_group, resource) = (
        word(input.verb),
        word(input.api_group),
        word(input.resource),
    );
    let req = Request {
        user: &user,
        groups: &groups,
        verb: &verb,
        api_group: &api_group,
        resource: &resource,
        namespace: ns.as_deref(),
    };
    let chosen = match_flow_schema(&schemas, &req).map(|s| s.name.clone());
    let mut reversed = schemas.clone();
    reversed.reverse();
    let again = match_flow_schema(&reversed, &req).map(|s| s.name.clone());
    assert_eq!(chosen, again, "schema order changed the match");
    if let Some(name) = &chosen {
        let winner = schemas.iter().find(|s| &s.name == name).unwrap();
        for s in &schemas {
            if match_flow_schema(std::slice::from_ref(s), &req).is_some() {
                assert!(
                    (winner.precedence, &winner.name) <= (s.precedence, &s.name),
                    "{} matched with a lower precedence than the chosen {}",
                    s.name,
                    name
                );
            }
        }
    } else {
        // Nothing matched as a whole, so nothing matches alone either.
        assert!(
            schemas
                .iter()
                .all(|s| match_flow_schema(std::slice::from_ref(s), &req).is_none())
        );
    }
});
