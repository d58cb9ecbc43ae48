use std::collections::HashSet;

use super::*;

fn end(this_run: i64) -> MigratedItem {
    MigratedItem {
        ado_id: 0,
        jira_id: Some("100".into()),
        jira_key: Some("S-1".into()),
        wave: 0,
        attempts: 1,
        this_run,
    }
}

#[test]
fn both_ends_of_an_ado_relation_name_the_same_jira_link() {
    // Dependency-Forward on 7 → 3, Dependency-Reverse on 3 → 7.
    assert_eq!(
        Link::canonical(7, "10000", 3, true, false),
        Link::canonical(3, "10000", 7, false, false)
    );
    assert_eq!(Link::canonical(7, "10000", 3, true, false).from, 7);
    // Related is on both ends as "outward": the lower id becomes the outward end.
    let a = Link::canonical(7, "10003", 3, true, true);
    assert_eq!(a, Link::canonical(3, "10003", 7, true, true));
    assert_eq!((a.from, a.to), (3, 7));
}

#[test]
fn ords_differ_for_two_types_on_one_pair_and_for_both_directions() {
    let links = [
        Link::canonical(5, "10000", 9, true, false),
        Link::canonical(5, "10003", 9, true, true),
        Link::canonical(5, "10000", 9, false, false),
        Link::canonical(5, "10002", 9, true, false),
        Link::canonical(5, "10000", 10, true, false),
    ];
    let ords: HashSet<i64> = links.iter().map(|l| l.ord(5)).collect();
    assert_eq!(ords.len(), links.len(), "{ords:?}");
    assert_eq!(links[0].ord(5), 9_010_000);
    assert_eq!(links[2].ord(5), -9_010_000, "5 is the inward end");
    assert!((0..1_000_000).contains(&type_number("custom-type")));
}

#[test]
fn the_owner_writes_and_the_other_end_only_when_the_owner_cannot() {
    let link = Link::canonical(1, "10000", 2, true, false);
    assert_eq!(decide(1, &link, Some(&end(1)), &[]), LinkAction::Write);
    assert_eq!(decide(2, &link, Some(&end(1)), &[]), LinkAction::Leave);
    assert_eq!(
        decide(2, &link, Some(&end(0)), &[]),
        LinkAction::Write,
        "the owner came in an earlier run"
    );
    assert_eq!(decide(1, &link, None, &[]), LinkAction::Wait);
    assert_eq!(decide(2, &link, None, &[]), LinkAction::Wait);
    let recorded_by_owner = link.ledger(2);
    assert_eq!(
        decide(2, &link, Some(&end(1)), &[recorded_by_owner]),
        LinkAction::Write,
        "the owner recorded it while this end was missing"
    );
    let recorded_by_me = link.ledger(1);
    assert_eq!(
        decide(2, &link, Some(&end(1)), &[recorded_by_me]),
        LinkAction::Leave
    );
}

#[test]
fn an_issue_link_is_found_from_either_end_in_its_direction() {
    let issue = json!({ "fields": { "issuelinks": [
        { "id": "501", "type": { "id": "10000" }, "inwardIssue": { "id": "100" } },
        { "id": "502", "type": { "id": "10003" }, "outwardIssue": { "id": "100" } },
    ] } });
    let present = parse_links(&issue);
    let other = end(1);
    // Issue of 1 blocks the issue of 2 (jira id 100): 1 is the outward end.
    let blocks = Link::canonical(1, "10000", 2, true, false);
    assert_eq!(has(&present, 1, &blocks, &other).as_deref(), Some("501"));
    let blocked = Link::canonical(1, "10000", 2, false, false);
    assert_eq!(
        has(&present, 1, &blocked, &other),
        None,
        "the other direction"
    );
    let relates = Link::canonical(1, "10003", 2, true, true);
    assert_eq!(
        has(&present, 1, &relates, &other).as_deref(),
        Some("502"),
        "a symmetric link in either direction"
    );
}
