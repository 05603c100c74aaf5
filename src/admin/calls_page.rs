//! The status page's call look-up: `/calls?q=` finds calls by Aircall id, phone number (any
//! writing) or contact name, with caller and outcome; `/calls/{id}` is one call's trace, the
//! same text as `calls show` (events, state, what each board made of it, items, last error).

use std::fmt::Write;

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::status_page::{escape, STYLE};
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

/// The search form, as the status page shows it too.
pub fn form(value: &str) -> String {
    format!(
        "<form action=/calls method=get class=search><input name=q id=q size=40 value=\"{}\" \
         placeholder=\"Aircall id, phone number or contact name\"> <button id=find>Find</button></form>",
        escape(value)
    )
}

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>{}</title>\
             <style>{STYLE}</style></head><body><p><a href=/>← status</a></p>{body}</body></html>",
            escape(title)
        ))
}

async fn search(state: web::Data<AdminState>, query: web::Query<SearchQuery>) -> HttpResponse {
    let q = query.q.clone().unwrap_or_default();
    let mut h = format!("<h1>Find a call</h1>{}", form(&q));
    if !q.trim().is_empty() {
        let found = calls::search(&state.store, &q, FOUND)
            .await
            .unwrap_or_default();
        if found.is_empty() {
            let _ = write!(h, "<p id=none>No call matches {}.</p>", escape(&q));
        } else {
            h.push_str("<table id=found><tr><th>Aircall id</th><th>started</th><th>direction</th><th>outcome</th><th>caller</th><th>phone</th></tr>");
            for (id, f) in &found {
                let _ = write!(
                    h,
                    "<tr><td><a href=\"/calls/{0}\">{0}</a></td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td><td>{5}</td></tr>",
                    escape(id),
                    escape(&calls::field(f, "started_at")),
                    escape(&calls::field(f, "direction")),
                    escape(&calls::field(f, "outcome")),
                    escape(&calls::field(f, "counterpart")),
                    escape(&calls::field(f, "phone")),
                );
            }
            h.push_str("</table>");
        }
    }
    page("Find a call", &h)
}

/// Escapes a line, and makes its URLs links.
fn linked(line: &str) -> String {
    line.split(' ')
        .map(|word| {
            // A URL cut short for the text ("…") would be a broken link: leave it text.
            let whole = !word.ends_with('…');
            if whole && (word.starts_with("http://") || word.starts_with("https://")) {
                format!("<a href=\"{0}\">{0}</a>", escape(word))
            } else {
                escape(word)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn trace(state: web::Data<AdminState>, id: web::Path<String>) -> HttpResponse {
    let rules = state.rules.current();
    let text = calls::trace(&state.store, Some(rules.boards()), &state.item_link, &id).await;
    let body = match text {
        Ok(Some(text)) => {
            let lines: Vec<String> = text.lines().map(linked).collect();
            format!(
                "<h1>Call {}</h1>{}<pre id=trace>{}</pre>",
                escape(&id),
                form(""),
                lines.join("\n")
            )
        }
        Ok(None) => format!(
            "<h1>Call {}</h1><p id=none>No such call in the journal.</p>{}",
            escape(&id),
            form(&id)
        ),
        Err(e) => format!(
            "<p class=dead>The store cannot be read: {}</p>",
            escape(&e.to_string())
        ),
    };
    page(&format!("Call {id}"), &body)
}
