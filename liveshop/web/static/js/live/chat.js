// The chat overlay: the last lines of the room (own lines marked), and the input that sends
// {"type":"comment","text"} over the room socket. Text is always set as textContent.
// Moderators' `comment_hidden` takes lines out (remove), `comment_shown` puts one back in its
// place (insert); `actions` (the studio) adds per-line buttons.
import { t } from "../i18n.js";
import { el } from "./format.js";

const KEEP = 50;

export class Chat {
  constructor(list, { userId = null, form = null, send = null, note = null, actions = null } = {}) {
    this.list = list;
    this.userId = userId;
    this.note = note;
    this.actions = actions;
    this.seen = new Set();
    this.hidden = new Set(); // ids moderators hid: a late copy of such a line stays out
    if (form && send) {
      const input = form.querySelector("input[name=text]");
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        if (send({ type: "comment", text })) {
          input.value = "";
          this.say("");
        } else {
          this.say(t("not_connected_your_message_was_not_sent"));
        }
      });
    }
  }

  say(text) {
    if (!this.note) return;
    this.note.textContent = text;
    this.note.hidden = !text;
  }

  reset(comments) {
    this.list.replaceChildren();
    this.seen.clear();
    for (const c of comments || []) this.add(c, { scroll: false });
    this.scroll();
  }

  line(comment) {
    const mine = this.userId !== null && comment.user && comment.user.id === this.userId;
    const classes = ["chat-line", comment.host ? "is-host" : "", mine ? "is-mine" : ""];
    return el(
      "li",
      { class: classes.filter(Boolean).join(" "), dataset: { commentId: comment.id ?? "" } },
      el("span", { class: "chat-name", text: comment.user ? comment.user.name : t("someone") }),
      comment.host ? el("span", { class: "chat-host", text: t("host") }) : null,
      el("span", { class: "chat-text", text: comment.text }),
      this.actions ? this.actions(comment, { mine }) : null,
    );
  }

  add(comment, { scroll = true } = {}) {
    if (comment.id !== undefined && (this.seen.has(comment.id) || this.hidden.has(comment.id))) return;
    if (comment.id !== undefined) this.seen.add(comment.id);
    this.list.append(this.line(comment));
    this.trim();
    if (scroll) this.scroll();
  }

  // A hidden line shown again: back between its neighbours (by id), not at the bottom.
  insert(comment) {
    this.hidden.delete(comment.id);
    if (this.seen.has(comment.id) && this.find(comment.id)) return;
    this.seen.add(comment.id);
    const after = [...this.list.children].find((li) => Number(li.dataset.commentId) > comment.id);
    if (after) this.list.insertBefore(this.line(comment), after);
    else this.list.append(this.line(comment));
    this.trim();
  }

  remove(ids) {
    for (const id of ids || []) {
      this.hidden.add(id);
      const li = this.find(id);
      if (li) li.remove();
    }
  }

  find(id) {
    return [...this.list.children].find((li) => li.dataset.commentId === String(id)) || null;
  }

  trim() {
    while (this.list.children.length > KEEP) this.list.firstElementChild.remove();
  }

  scroll() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}
