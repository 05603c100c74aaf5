//! The board page: a server-rendered, escaped HTML view of each board that refreshes its
//! table every second (the script fetches the same page's table fragment; all escaping stays
//! here on the server).

use std::fmt::Write;

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::state::{ItemState, State};
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

const STYLE: &str = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}h2{margin-top:1.5em}\
tr.archived{color:#888;font-style:italic}tr.deleted{color:#b00;text-decoration:line-through}";

fn html(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
            escape(title)
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
    let Some(board) = state.boards.get(&board_id) else {
        return String::new();
    };
    let mut out = String::new();
    for group in &board.groups {
        let _ = write!(
            out,
            "<h2>{}</h2><table><tr><th>Item</th><th>State</th>",
            escape(&group.title)
        );
        for c in &board.columns {
            let _ = write!(out, "<th>{}</th>", escape(&c.title));
        }
        out.push_str("</tr>");
        let items = board
            .item_ids
            .iter()
            .filter_map(|id| state.items.get(id))
            .filter(|i| i.group_id == group.id);
        for item in items {
            let class = item.state.as_str();
            let _ = write!(
                out,
                "<tr class=\"{class}\"><td>{}</td><td>{}</td>",
                escape(&item.name),
                if item.state == ItemState::Active {
                    ""
                } else {
                    class
                }
            );
            for c in &board.columns {
                let text = item.values.get(&c.id).map_or("", |v| v.text.as_str());
                let link = item
                    .values
                    .get(&c.id)
                    .and_then(|v| v.value.get("url"))
                    .and_then(|u| u.as_str());
                match link {
                    Some(url) => {
                        let _ = write!(
                            out,
                            "<td><a href=\"{}\" rel=\"noopener noreferrer\">{}</a></td>",
                            escape(url),
                            escape(text)
                        );
                    }
                    None => {
                        let _ = write!(out, "<td>{}</td>", escape(text));
                    }
                }
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>");
    }
    out
}
