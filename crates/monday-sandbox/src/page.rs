//! The board page: a server-rendered, escaped HTML view of each board that refreshes its
//! table every second (the script fetches the same page's table fragment; all escaping stays
//! here on the server).

use std::fmt::Write;

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::state::State;
use super::Shared;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str =
    "body{font-family:Figtree,Roboto,system-ui,sans-serif;margin:1.5em 2em;color:#323338}\
h1{font-size:24px;margin:.2em 0}a{color:#0073ea}";

fn html(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}{}</style></head><body>{body}</body></html>",
            escape(title),
            super::board_view::STYLE
        ))
}

pub async fn index(shared: web::Data<Shared>) -> HttpResponse {
    let inner = shared.lock();
    let mut body = String::from("<h1>monday sandbox</h1><ul>");
    for b in inner.state.boards.values() {
        let _ = write!(
            body,
            "<li><a href=\"/boards/{}\">{}</a> ({} items)</li>",
            b.id,
            escape(&b.name),
            b.item_ids.len()
        );
    }
    body.push_str(
        "</ul><p>Control API: <code>/_sandbox/boards</code>, <code>/_sandbox/stats</code></p>",
    );
    html("monday sandbox", &body)
}

#[derive(Deserialize)]
pub struct PageQuery {
    fragment: Option<u8>,
}

pub async fn board(
    path: web::Path<String>,
    query: web::Query<PageQuery>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let inner = shared.lock();
    let Some(board_id) = path
        .parse::<u64>()
        .ok()
        .filter(|id| inner.state.boards.contains_key(id))
    else {
        return HttpResponse::NotFound().body("no such board");
    };
    let table = board_table(&inner.state, board_id);
    if query.fragment.is_some() {
        return HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(table);
    }
    let name = inner
        .state
        .boards
        .get(&board_id)
        .map(|b| b.name.clone())
        .unwrap_or_default();
    let body = format!(
        "<p><a href=\"/\">All boards</a></p><h1>{}</h1><div id=\"board\">{table}</div>\
<script>setInterval(async()=>{{try{{const r=await fetch(location.pathname+'?fragment=1');\
if(r.ok)document.getElementById('board').innerHTML=await r.text();}}catch(e){{}}}},1000);</script>",
        escape(&name)
    );
    html(&name, &body)
}

fn board_table(state: &State, board_id: u64) -> String {
    match state.boards.get(&board_id) {
        Some(board) => super::board_view::render(state, board),
        None => String::new(),
    }
}
