// The chat overlay: the last lines of the room (own lines marked), and the input that sends
// {"type":"comment","text"} over the room socket. Text is always set as textContent.
import { el } from "./format.js";

const KEEP = 50;

export class Chat {
  constructor(list, { userId = null, form = null, send = null, note = null } = {}) {
    this.list = list;
    this.userId = userId;
    this.note = note;
    this.seen = new Set();
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
          this.say("Not connected — your message was not sent. Try again in a moment.");
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

  add(comment, { scroll = true } = {}) {
    if (comment.id !== undefined && this.seen.has(comment.id)) return;
    if (comment.id !== undefined) this.seen.add(comment.id);
    const mine = this.userId !== null && comment.user && comment.user.id === this.userId;
    const classes = ["chat-line", comment.host ? "is-host" : "", mine ? "is-mine" : ""];
    const line = el(
      "li",
      { class: classes.filter(Boolean).join(" "), dataset: { commentId: comment.id ?? "" } },
      el("span", { class: "chat-name", text: comment.user ? comment.user.name : "Someone" }),
      comment.host ? el("span", { class: "chat-host", text: "Host" }) : null,
      el("span", { class: "chat-text", text: comment.text }),
    );
    this.list.append(line);
    while (this.list.children.length > KEEP) this.list.firstElementChild.remove();
    if (scroll) this.scroll();
  }

  scroll() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}
