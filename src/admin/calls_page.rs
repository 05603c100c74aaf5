//! The status page's call look-up: `/calls?q=` finds calls by Aircall id, phone number (any
//! writing) or contact name, with caller and outcome; `/calls/{id}` is one call's trace, the
//! same text as `calls show` (events, state, what each board made of it, items, last error).
//! The HTML is `templates/calls.html` and `templates/trace.html`.

use actix_web::{web, HttpResponse};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::pages::render;
use super::AdminState;
use crate::ops::calls;

const FOUND: usize = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/calls", web::get().to(search))
        .route("/calls/{id}", web::get().to(trace));
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

/// A call found, as the search lists it.
#[derive(Serialize)]
struct Found {
    id: String,
    started_at: String,
    direction: String,
    outcome: String,
    counterpart: String,
    phone: String,
}

async fn search(state: web::Data<AdminState>, query: web::Query<SearchQuery>) -> HttpResponse {
    let q = query.q.clone().unwrap_or_default();
    let found: Vec<Found> = if q.trim().is_empty() {
        Vec::new()
    } else {
        calls::search(&state.store, &q, FOUND)
            .await
            .unwrap_or_default()
            .iter()
            .map(|(id, f)| Found {
                id: id.clone(),
                started_at: calls::field(f, "started_at"),
                direction: calls::field(f, "direction"),
                outcome: calls::field(f, "outcome"),
                counterpart: calls::field(f, "counterpart"),
                phone: calls::field(f, "phone"),
            })
            .collect()
    };
    render("calls.html", context! { title => "Find a call", q, found })
}

/// A word of a trace line: a URL becomes a link.
#[derive(Serialize)]
struct Word {
    text: String,
    link: bool,
}

fn words(line: &str) -> Vec<Word> {
    line.split(' ')
        .map(|word| Word {
            // A URL cut short for the text ("…") would be a broken link: leave it text.
            link: !word.ends_with('…')
                && (word.starts_with("http://") || word.starts_with("https://")),
            text: word.to_string(),
        })
        .collect()
}

async fn trace(state: web::Data<AdminState>, id: web::Path<String>) -> HttpResponse {
    let rules = state.rules.current();
    let text = calls::trace(&state.store, Some(rules.boards()), &state.item_link, &id).await;
    let (lines, error) = match text {
        Ok(Some(text)) => (Some(text.lines().map(words).collect::<Vec<_>>()), None),
        Ok(None) => (None, None),
        Err(e) => (None, Some(e.to_string())),
    };
    let title = format!("Call {id}");
    render(
        "trace.html",
        context! { title, id => id.into_inner(), lines, error },
    )
}
