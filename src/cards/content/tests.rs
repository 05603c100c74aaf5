use super::*;

fn known() -> Caller {
    Caller {
        number: "+33612345678".into(),
        contact: Some(ContactItem {
            name: "Jane Doe".into(),
            link: Some("https://monday.com/boards/2/pulses/77".into()),
            columns: vec![
                (
                    "Company".into(),
                    "Acme Industries International Holdings SA".into(),
                ),
                ("Email".into(), "".into()),
            ],
        }),
        calls: vec![
            PastCall {
                started_at: Some(1_795_168_900),
                outcome: "missed".into(),
                direction: Some("inbound".into()),
            },
            PastCall {
                started_at: Some(1_795_000_000),
                outcome: "unanswered".into(),
                direction: Some("outbound".into()),
            },
            PastCall {
                started_at: None,
                outcome: "in_progress".into(),
                direction: None,
            },
        ],
    }
}

fn layout(recent_calls: usize, unknown_caller: Option<&str>) -> Layout {
    Layout {
        recent_calls,
        unknown_caller: unknown_caller.map(String::from),
    }
}

#[test]
fn a_known_caller_s_card_links_the_item_and_lists_the_last_calls() {
    let card = build(&known(), &layout(2, None)).unwrap();
    insta::assert_json_snapshot!(card);
}

#[test]
fn an_unknown_caller_gets_no_card_unless_one_is_configured() {
    let unknown = Caller {
        contact: None,
        calls: Vec::new(),
        ..known()
    };
    assert_eq!(build(&unknown, &layout(2, None)), Err(NoCard::Unknown));
    let card = build(&unknown, &layout(2, Some("Unknown caller"))).unwrap();
    insta::assert_json_snapshot!(card);
}

#[test]
fn no_recent_calls_asked_means_no_call_lines() {
    let card = build(&known(), &layout(0, None)).unwrap();
    assert_eq!(card.contents.len(), 2, "{card:?}");
}

#[test]
fn long_values_are_cut_by_characters_not_bytes() {
    assert_eq!(cut("ééééé", 3), "éé…");
    assert_eq!(cut("  short ", 10), "short");
}
