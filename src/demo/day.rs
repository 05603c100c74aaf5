//! A realistic day of Aircall webhooks for the demo and the benchmarks: answered, missed,
//! voicemail, abandoned, outbound and transferred calls on three lines, contacts created,
//! updated and deleted, with duplicate and out-of-order deliveries mixed in, as Aircall does.
//! Payload shapes follow `reference/aircall.md` (the fixtures in tests/fixtures/aircall).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

struct Agent {
    id: u64,
    name: &'static str,
    email: &'static str,
}

/// The sandbox's seed has monday users with these emails (config/sandbox-boards.toml), so the
/// demo fills its people column; Julien has no monday account there, on purpose.
const AGENTS: &[Agent] = &[
    Agent {
        id: 501101,
        name: "Camille Lefèvre",
        email: "camille.lefevre@hexaflow.example",
    },
    Agent {
        id: 501102,
        name: "Julien Moreau",
        email: "julien.moreau@hexaflow.example",
    },
    Agent {
        id: 501103,
        name: "Olivia Bennett",
        email: "olivia.bennett@hexaflow.example",
    },
    Agent {
        id: 501104,
        name: "Marcus Reed",
        email: "marcus.reed@hexaflow.example",
    },
];

/// (id, name, digits, country)
const LINES: &[(u64, &str, &str, &str)] = &[
    (8101, "Paris Sales", "+33 1 76 11 11 11", "FR"),
    (8102, "London Support", "+44 20 7946 0000", "GB"),
    (8103, "SF Sales", "+1 415-555-0100", "US"),
];

/// (id, first, last, company, phone, email)
const CONTACTS: &[(u64, &str, &str, &str, &str, &str)] = &[
    (
        98214501,
        "Sophie",
        "Marchand",
        "Boulangerie Marchand",
        "+33 6 12 34 56 78",
        "sophie@marchand.example",
    ),
    (
        98214502,
        "Thomas",
        "Girard",
        "Girard Conseil",
        "+33 6 98 76 54 32",
        "thomas@girard.example",
    ),
    (
        98214503,
        "Emily",
        "Clarke",
        "Clarke & Co",
        "+44 20 7946 0123",
        "emily@clarke.example",
    ),
    (
        98214504,
        "Daniel",
        "Foster",
        "Foster Logistics",
        "+44 161 496 0456",
        "daniel@foster.example",
    ),
    (
        98214505,
        "Ava",
        "Nguyen",
        "Nguyen Design",
        "+1 415-555-0132",
        "ava@nguyen.example",
    ),
    (
        98214506,
        "Liam",
        "O'Brien",
        "O'Brien Hardware",
        "+1 415-555-0177",
        "liam@obrien.example",
    ),
];

/// Numbers that are not contacts.
const STRANGERS: &[&str] = &[
    "+33 7 55 44 33 22",
    "+44 117 496 0789",
    "+1 650-555-0144",
    "anonymous",
];

#[derive(Clone, Copy, Debug)]
enum Kind {
    InboundAnswered,
    InboundVoicemail,
    InboundMissed,
    Abandoned,
    OutboundAnswered,
    OutboundUnanswered,
    Transferred,
}

/// Envelopes in the order they are delivered. `calls` calls start from `start_ts` (UNIX s).
pub fn realistic_day(token: &str, seed: u64, calls: usize, start_ts: i64) -> Vec<Value> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut timed: Vec<(i64, Value)> = Vec::new();
    for (i, c) in CONTACTS.iter().enumerate() {
        let t = start_ts - 3600 + i as i64 * 60;
        timed.push((
            t,
            envelope(token, "contact", "contact.created", t, contact(c, t, None)),
        ));
    }
    let spacing = (10 * 3600 / calls.max(1) as i64).max(20);
    for n in 0..calls {
        let started = start_ts + n as i64 * spacing + rng.gen_range(0..spacing / 2);
        let kind = match rng.gen_range(0..100) {
            0..=34 => Kind::InboundAnswered,
            35..=49 => Kind::InboundVoicemail,
            50..=59 => Kind::InboundMissed,
            60..=64 => Kind::Abandoned,
            65..=84 => Kind::OutboundAnswered,
            85..=94 => Kind::OutboundUnanswered,
            _ => Kind::Transferred,
        };
        timed.extend(call_events(
            token,
            &mut rng,
            1_843_200_000 + n as u64,
            kind,
            started,
        ));
    }
    // Mid-day contact changes: a new phone for one, a deletion for another.
    let mid = start_ts + 5 * 3600;
    let c = &CONTACTS[1];
    timed.push((
        mid,
        envelope(
            token,
            "contact",
            "contact.updated",
            mid,
            contact(c, mid, Some("+33 1 44 55 66 77")),
        ),
    ));
    let c = &CONTACTS[5];
    timed.push((
        mid + 60,
        envelope(
            token,
            "contact",
            "contact.deleted",
            mid + 60,
            contact(c, mid + 60, None),
        ),
    ));
    timed.sort_by_key(|(t, _)| *t);
    let mut delivered: Vec<Value> = timed.into_iter().map(|(_, v)| v).collect();
    // Aircall delivers at least once and in no particular order.
    for i in (1..delivered.len()).rev() {
        if rng.gen_bool(0.12) {
            delivered.swap(i, i - 1);
        }
    }
    let mut with_duplicates = Vec::with_capacity(delivered.len() * 11 / 10);
    for (i, ev) in delivered.iter().enumerate() {
        with_duplicates.push(ev.clone());
        if rng.gen_bool(0.08) {
            let later = (i + rng.gen_range(1..6)).min(delivered.len());
            with_duplicates.push(delivered[later.min(delivered.len() - 1)].clone());
            with_duplicates.push(ev.clone());
        }
    }
    with_duplicates
}

pub(super) fn envelope(token: &str, resource: &str, event: &str, ts: i64, data: Value) -> Value {
    json!({ "resource": resource, "event": event, "timestamp": ts, "token": token, "data": data })
}

fn contact(c: &(u64, &str, &str, &str, &str, &str), ts: i64, extra_phone: Option<&str>) -> Value {
    let (id, first, last, company, phone, email) = *c;
    let mut phones = vec![json!({ "id": id * 10 + 1, "label": "Mobile", "value": phone })];
    if let Some(p) = extra_phone {
        phones.push(json!({ "id": id * 10 + 2, "label": "Work", "value": p }));
    }
    json!({
        "id": id,
        "direct_link": format!("https://api.aircall.io/v1/contacts/{id}"),
        "first_name": first, "last_name": last, "company_name": company,
        "information": null, "is_shared": true,
        "created_at": "2026-01-15T09:00:00Z",
        "updated_at": time::OffsetDateTime::from_unix_timestamp(ts).map(|t| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()).unwrap_or_default(),
        "phone_numbers": phones,
        "emails": [{ "id": id * 10 + 5, "label": "Work", "value": email }],
    })
}

fn call_events(
    token: &str,
    rng: &mut StdRng,
    id: u64,
    kind: Kind,
    started: i64,
) -> Vec<(i64, Value)> {
    let (line_id, line_name, line_digits, country) = LINES[rng.gen_range(0..LINES.len())];
    let inbound = !matches!(kind, Kind::OutboundAnswered | Kind::OutboundUnanswered);
    let agent = &AGENTS[rng.gen_range(0..AGENTS.len())];
    let known = rng.gen_bool(0.6);
    let (digits, contact_json) = if known {
        let c = &CONTACTS[rng.gen_range(0..CONTACTS.len())];
        (c.4.to_string(), contact(c, started - 86_400, None))
    } else {
        let n = STRANGERS[rng.gen_range(0..STRANGERS.len() - usize::from(!inbound))];
        (n.to_string(), Value::Null)
    };
    let ring = rng.gen_range(4..25);
    let talk = rng.gen_range(30..900);
    let answered = matches!(
        kind,
        Kind::InboundAnswered | Kind::OutboundAnswered | Kind::Transferred
    );
    let answered_at = answered.then_some(started + ring);
    let ended_at = match kind {
        Kind::Abandoned => started + 3,
        _ if answered => started + ring + talk,
        _ => started + ring + 20,
    };
    let mut base = json!({
        "id": id,
        "direct_link": format!("https://api.aircall.io/v1/calls/{id}"),
        "call_uuid": format!("CA{id:x}{:08x}", rng.gen::<u32>()),
        "direction": if inbound { "inbound" } else { "outbound" },
        "status": "initial", "missed_call_reason": null,
        "started_at": started, "answered_at": null, "ended_at": null, "duration": 0,
        "cost": "0", "voicemail": null, "recording": null, "asset": null,
        "raw_digits": digits, "archived": false,
        "user": if inbound { Value::Null } else { agent_json(agent) },
        "contact": contact_json,
        "number": { "id": line_id, "name": line_name, "digits": line_digits,
                    "e164_digits": line_digits.replace([' ', '-'], ""), "country": country,
                    "time_zone": "Europe/Paris", "open": true },
        "tags": [], "comments": [],
    });
    let mut out = Vec::new();
    let push = |out: &mut Vec<(i64, Value)>, event: &str, at: i64, data: &Value| {
        out.push((at, envelope(token, "call", event, at + 1, data.clone())));
    };
    push(&mut out, "call.created", started, &base);
    if inbound {
        let mut ringing = base.clone();
        ringing["user"] = agent_json(agent);
        push(&mut out, "call.ringing_on_agent", started + 1, &ringing);
    }
    if let Some(a) = answered_at {
        base["status"] = json!("answered");
        base["answered_at"] = json!(a);
        base["user"] = agent_json(agent);
        push(&mut out, "call.answered", a, &base);
    }
    if matches!(kind, Kind::Transferred) {
        let to =
            &AGENTS[(AGENTS.iter().position(|x| x.id == agent.id).unwrap_or(0) + 1) % AGENTS.len()];
        base["transferred_by"] = agent_json(agent);
        base["transferred_to"] = agent_json(to);
        base["user"] = agent_json(to);
        push(
            &mut out,
            "call.transferred",
            answered_at.unwrap_or(started) + talk / 3,
            &base,
        );
    }
    let voicemail = matches!(kind, Kind::InboundVoicemail);
    if voicemail {
        push(&mut out, "call.voicemail_left", started + ring, &base);
    }
    // hungup: immediate, possibly incomplete (no user on an unanswered inbound call).
    base["status"] = json!("done");
    base["ended_at"] = json!(ended_at);
    base["duration"] = json!(ended_at - started);
    let mut hungup = base.clone();
    if inbound && !answered {
        hungup.as_object_mut().map(|o| o.remove("user"));
    }
    push(&mut out, "call.hungup", ended_at, &hungup);
    // ended: ~30 s later with the final data.
    if inbound && !answered {
        base["user"] = Value::Null;
        base["missed_call_reason"] = json!(match kind {
            Kind::Abandoned => "short_abandoned",
            Kind::InboundVoicemail => "agents_did_not_answer",
            _ => [
                "agents_did_not_answer",
                "no_available_agent",
                "out_of_opening_hours"
            ][rng.gen_range(0..3)],
        });
    }
    push(&mut out, "call.ended", ended_at + 30, &base);
    // Recording or voicemail links come later still.
    if answered || voicemail {
        let what = if voicemail { "voicemail" } else { "recording" };
        base[what] = json!(format!("https://aircall-recordings.s3.amazonaws.com/calls/{id}/{what}.mp3?X-Amz-Expires=3600&X-Amz-Signature={:016x}", rng.gen::<u64>()));
        base[format!("{what}_short_url")] = json!(format!(
            "https://short-urls.aircall.io/v1/{:032x}",
            rng.gen::<u128>()
        ));
        base["asset"] = json!(format!("https://assets.aircall.io/calls/{id}/{what}"));
        push(&mut out, "call.comm_assets_generated", ended_at + 95, &base);
    }
    out
}

fn agent_json(a: &Agent) -> Value {
    json!({ "id": a.id, "direct_link": format!("https://api.aircall.io/v1/users/{}", a.id),
            "name": a.name, "email": a.email, "available": true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_has_every_kind_of_call_duplicates_and_contacts() {
        let day = realistic_day("t", 7, 60, 1_795_168_800);
        let events: Vec<&str> = day.iter().map(|e| e["event"].as_str().unwrap()).collect();
        for needed in [
            "call.created",
            "call.answered",
            "call.hungup",
            "call.ended",
            "call.voicemail_left",
            "call.comm_assets_generated",
            "call.transferred",
            "contact.created",
            "contact.updated",
            "contact.deleted",
        ] {
            assert!(events.contains(&needed), "no {needed}");
        }
        let unique: std::collections::BTreeSet<String> =
            day.iter().map(|e| e.to_string()).collect();
        assert!(unique.len() < day.len(), "no duplicate deliveries");
        assert!(day.iter().all(|e| e["token"] == "t"));
        assert_eq!(
            realistic_day("t", 7, 60, 1_795_168_800),
            day,
            "not deterministic"
        );
    }
}

#[cfg(test)]
mod number_tests {
    use super::*;
    use crate::mapping::normalise_phone;

    /// monday refuses a phone number that is not valid for its country, and the bridge leaves
    /// such a column empty: the demo's numbers must all be valid, or its phone column is blank.
    #[test]
    fn every_demo_number_is_a_valid_number_of_a_known_country() {
        let numbers = CONTACTS
            .iter()
            .map(|c| c.4)
            .chain(STRANGERS.iter().copied().filter(|n| *n != "anonymous"));
        for n in numbers {
            let p = normalise_phone(n).unwrap();
            assert!(p.country.is_some(), "{n} is not valid for any country");
        }
    }
}
