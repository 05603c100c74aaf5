//! The number index and the card claims of insight cards, on both backends.

use super::*;

fn with_numbers(claim: &Claim, numbers: &[&str], at_ms: i64) -> Completion {
    Completion {
        numbers: Some(Numbers {
            numbers: numbers.iter().map(|n| n.to_string()).collect(),
            at_ms,
        }),
        ..synced(claim)
    }
}

pub(super) async fn entities_are_found_by_number_newest_first(store: Store) {
    for (id, at) in [("1", 1_000), ("2", 3_000), ("3", 2_000)] {
        store.append(event(id, id, 10)).await.unwrap();
        let claim = store.claim(20_000, 1_000, "w").await.unwrap().unwrap();
        let numbers: &[&str] = if id == "3" {
            &["33612345678", "33700000000"]
        } else {
            &["33612345678"]
        };
        store
            .complete(with_numbers(&claim, numbers, at), 20_000)
            .await
            .unwrap();
    }
    let found = store
        .by_number(Entity::Call, "33612345678", 2)
        .await
        .unwrap();
    let ids: Vec<&str> = found.iter().map(|m| m.entity_id.as_str()).collect();
    assert_eq!(ids, ["2", "3"], "newest first, at most the limit");
    assert_eq!(found[0].observed.as_deref(), Some("{}"));
    assert_eq!(found[0].links[0].item_id.as_deref(), Some("99"));
    assert!(store
        .by_number(Entity::Contact, "33612345678", 5)
        .await
        .unwrap()
        .is_empty());

    // A changed set of numbers replaces the old one; `None` leaves it alone.
    store.append(event("3", "3b", 11)).await.unwrap();
    let claim = store.claim(20_000, 1_000, "w").await.unwrap().unwrap();
    store
        .complete(with_numbers(&claim, &["33700000000"], 2_000), 20_000)
        .await
        .unwrap();
    store.append(event("2", "2b", 11)).await.unwrap();
    let claim = store.claim(20_000, 1_000, "w").await.unwrap().unwrap();
    store.complete(synced(&claim), 20_000).await.unwrap();
    let found = store
        .by_number(Entity::Call, "33612345678", 5)
        .await
        .unwrap();
    let ids: Vec<&str> = found.iter().map(|m| m.entity_id.as_str()).collect();
    assert_eq!(ids, ["2", "1"]);
}

pub(super) async fn a_call_s_card_is_claimed_once(store: Store) {
    assert!(store.claim_card("42", 1_000).await.unwrap());
    assert!(
        !store.claim_card("42", 2_000).await.unwrap(),
        "a second card"
    );
    assert!(store.claim_card("43", 2_000).await.unwrap());
}

pub(super) async fn old_card_claims_go_with_the_retention(store: Store) {
    for (call, at) in [("1", 1_000), ("2", 2_000), ("3", 9_000)] {
        assert!(store.claim_card(call, at).await.unwrap());
    }
    assert_eq!(
        store.prune_card_claims(5_000, 1).await.unwrap(),
        1,
        "a batch"
    );
    assert_eq!(store.prune_card_claims(5_000, 10).await.unwrap(), 1);
    assert_eq!(store.prune_card_claims(5_000, 10).await.unwrap(), 0);
    assert!(
        !store.claim_card("3", 10_000).await.unwrap(),
        "a claim inside the retention stays"
    );
    assert!(
        store.claim_card("1", 10_000).await.unwrap(),
        "a pruned claim is gone"
    );
}
