// outstream's page: one stream of the log, shown as the terminal shows it.
//
// Theory of operation. The page asks for the stream's status, then opens an
// EventSource on its events. Each text entry is sanitized (escape sequences
// and controls removed, as core/escapes.py does for a terminal), cut into
// graphemes and pushed into a Smooth pacer (core/pace.py's, line for line);
// every animation frame takes the units due and renders the text shown so
// far as Markdown. Rendering is incremental: the top-level blocks before the
// last one are final, so they are rendered once and kept; only the last
// block is rendered again. Markdown comes from markdown-it with raw HTML off
// and links limited to http, https and mailto; code is highlighted by
// highlight.js; images become links (the page makes no request but to its
// own server). What was received and the last entry's id are kept in
// sessionStorage, so a reload shows the text at once and resumes after that
// entry: nothing missed, nothing twice. EventSource reconnects by itself
// with Last-Event-ID; when it gives up (a proxy's error page), the page
// opens a new one after the last id, backing off.
"use strict";

(function () {
  // --- Smooth: core/pace.py's Smooth, the same controller ---

  const QUIET = 0.005; // arrivals closer than this are one burst
  const MAX_SPAN = 0.1; // a steady run is measured in pieces this long
  const MAX_GAP = 1.0; // a longer period is a stall, counted as this long
  const MIN_SEEN = 0.1; // until this much is measured, the plain average
  const PULL = 0.5; // the standing queue is shown over this many seconds more
  const PLAN_AHEAD = 1 / 60; // deadlines planned a frame early
  const MIN_ROOM = 1 / 30; // the least time for the units up to one near its deadline

  class Smooth {
    constructor(lag = 0.5, margin = 1.05, memory = 2.0) {
      this.lag = lag;
      this.margin = margin;
      this.memory = memory;
      this.groups = []; // {units, start, t}: units waiting, by arrival
      this.nWaiting = 0;
      this.rate = 0; // units per second at which the backlog is being shown
      this.credit = 0; // units earned but not yet shown
      this.last = 0; // when the credit was last counted
      this.burstStart = null;
      this.burstLast = 0;
      this.burstUnits = 0;
      this.burstPeriod = null;
      this.sumUnits = 0;
      this.sumTime = 0;
      this.estimate = null;
      this.leastWaiting = 0;
      this.standing = 0;
    }

    push(units, now) {
      if (!units.length) return;
      this._observe(units.length, now);
      if (this.nWaiting) {
        this._accrue(now);
      } else {
        // Text after a pause: its first unit is due at once.
        this.last = now;
        this.credit = 1.0;
      }
      const last = this.groups[this.groups.length - 1];
      if (last && now - last.t <= 0.001) {
        last.units = last.units.slice(last.start).concat(units);
        last.start = 0;
      } else {
        this.groups.push({ units: units.slice(), start: 0, t: now });
      }
      this.nWaiting += units.length;
      this.rate = this._targetRate(now);
    }

    due(now) {
      if (!this.nWaiting) {
        this.last = now;
        return [];
      }
      this._accrue(now);
      let n = Math.floor(this.credit + 1e-9);
      n = Math.min(Math.max(n, this._arrivedBy(now - this.lag)), this.nWaiting);
      this.credit = Math.max(this.credit - n, 0);
      const out = this._take(n);
      this.leastWaiting = Math.min(this.leastWaiting, this.nWaiting);
      if (this.nWaiting) this.rate = this._targetRate(now);
      else this.credit = 0;
      return out;
    }

    drain() {
      this.credit = 0;
      return this._take(this.nWaiting);
    }

    nextDeadline() {
      if (!this.nWaiting) return null;
      const forced = this.groups[0].t + this.lag;
      if (this.rate <= 0) return forced;
      return Math.min(this.last + Math.max(1 - this.credit, 0) / this.rate, forced);
    }

    _take(n) {
      const out = [];
      this.nWaiting -= n;
      while (n > 0) {
        const group = this.groups[0];
        const end = group.start + n;
        const stop = Math.min(end, group.units.length);
        for (let i = group.start; i < stop; i++) out.push(group.units[i]);
        if (end >= group.units.length) {
          n -= group.units.length - group.start;
          this.groups.shift();
        } else {
          group.start = end;
          n = 0;
        }
      }
      return out;
    }

    _arrivedBy(tCut) {
      let n = 0;
      for (const group of this.groups) {
        if (group.t > tCut) break;
        n += group.units.length - group.start;
      }
      return n;
    }

    _accrue(now) {
      if (now > this.last) {
        this.credit += this.rate * (now - this.last);
        this.last = now;
      }
    }

    _observe(nUnits, now) {
      const start = this.burstStart;
      if (start !== null && now - this.burstLast < QUIET && now - start < MAX_SPAN) {
        this.burstUnits += nUnits;
        this.burstLast = now;
        return;
      }
      if (this.burstPeriod !== null) this._measured(this.burstUnits, this.burstPeriod);
      this.standing = this.leastWaiting;
      this.leastWaiting = this.nWaiting;
      this.burstPeriod = start === null ? null : Math.min(now - start, MAX_GAP);
      this.burstStart = this.burstLast = now;
      this.burstUnits = nUnits;
    }

    _measured(nUnits, period) {
      if (this.sumTime < MIN_SEEN) {
        this.sumUnits += nUnits;
        this.sumTime += period;
        this.estimate = this.sumUnits / this.sumTime;
      } else {
        const rate = nUnits / period;
        this.estimate += (rate - this.estimate) * -Math.expm1(-period / this.memory);
      }
    }

    _rateNow() {
      if (this.estimate === null && this.burstPeriod !== null) {
        return this.burstUnits / this.burstPeriod;
      }
      return this.estimate;
    }

    _targetRate(now) {
      let needed = 0;
      let nBefore = 0;
      const plan = this.lag - Math.min(PLAN_AHEAD, this.lag / 2);
      for (const group of this.groups) {
        nBefore += group.units.length - group.start;
        needed = Math.max(needed, nBefore / Math.max(group.t + plan - now, MIN_ROOM));
      }
      const estimate = this._rateNow();
      if (estimate === null) return needed;
      const pull = Math.min(this.standing, this.nWaiting) / PULL;
      return Math.max(needed, estimate * this.margin + pull);
    }
  }

  // --- the sanitizer: core/escapes.py's "strip" policy ---
  //
  // ECMA-48's escape sequences and control strings are removed whole, C0 and
  // C1 controls but LF and HT are removed, CR becomes LF (CRLF one LF), and
  // bidi overrides are removed. Incremental: a sequence split across entries
  // is held until it ends. A sequence longer than MAX_HELD is given up: the
  // rest shows as text (every control in it still removed).

  const GROUND = 0, ESCAPE = 1, CSI_PARAM = 2, CSI_INTER = 3, STRING = 4, NF = 5;
  const MAX_HELD = 4096;

  class Sanitizer {
    constructor(saved) {
      this.state = saved ? saved.state : GROUND;
      this.held = saved ? saved.held : 0;
      this.afterCR = saved ? saved.afterCR : false;
    }

    feed(text) {
      let out = "";
      let run = 0; // start of the plain text not yet copied
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (this.state === GROUND) {
          const plain =
            c >= 0x20 && c !== 0x7f && (c < 0x80 || c > 0x9f) &&
            !(c >= 0x202a && c <= 0x202e) && !(c >= 0x2066 && c <= 0x2069);
          if (plain || c === 0x09 || (c === 0x0a && !this.afterCR)) {
            this.afterCR = false;
            continue;
          }
          out += text.slice(run, i);
          run = i + 1;
          const crlf = c === 0x0a && this.afterCR;
          this.afterCR = c === 0x0d;
          if (c === 0x0d) out += "\n";
          else if (c === 0x1b) this._begin(ESCAPE);
          else if (c === 0x9b) this._begin(CSI_PARAM);
          else if (c === 0x90 || c === 0x98 || (c >= 0x9d && c <= 0x9f)) this._begin(STRING);
          else if (crlf) continue;
          continue;
        }
        // Inside a sequence: consume c, or break off and see c again from GROUND.
        if (this._step(c)) {
          run = i + 1;
        } else {
          run = i;
          i -= 1;
        }
      }
      if (this.state === GROUND) out += text.slice(run);
      return out;
    }

    _begin(state) {
      this.state = state;
      this.held = 1;
    }

    // Whether c belongs to the sequence (false: the sequence broke off before it).
    _step(c) {
      this.held += 1;
      const state = this.state;
      if (state === STRING) {
        if (c === 0x07 || c === 0x9c) this.state = GROUND;
        else if (c === 0x1b) this._begin(ESCAPE); // ends the string, begins a sequence
        else if (this.held > MAX_HELD) return this._broken(); // given up: the rest shows
        return true;
      }
      if (this.held > MAX_HELD) {
        this.state = GROUND;
        return false;
      }
      if (state === ESCAPE) {
        if (c === 0x5b) this.state = CSI_PARAM;
        else if (c === 0x5d || c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) this.state = STRING;
        else if (c >= 0x20 && c <= 0x2f) this.state = NF;
        else if (c >= 0x30 && c <= 0x7e) this.state = GROUND;
        else return this._broken();
        return true;
      }
      if (state === CSI_PARAM && c >= 0x30 && c <= 0x3f) return true;
      if ((state === CSI_PARAM || state === CSI_INTER || state === NF) && c >= 0x20 && c <= 0x2f) {
        if (state === CSI_PARAM) this.state = CSI_INTER;
        return true;
      }
      if ((state === CSI_PARAM || state === CSI_INTER) && c >= 0x40 && c <= 0x7e) {
        this.state = GROUND;
        return true;
      }
      if (state === NF && c >= 0x30 && c <= 0x7e) {
        this.state = GROUND;
        return true;
      }
      return this._broken();
    }

    _broken() {
      this.state = GROUND;
      return false;
    }

    saved() {
      return { state: this.state, held: this.held, afterCR: this.afterCR };
    }
  }

  // --- Markdown: markdown-it, safe ---

  // C0 and C1 controls but HT and LF, and bidi overrides (core/escapes.py's neutralized).
  const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

  function markdown() {
    const highlight = (code, lang) => {
      const language = (lang || "").split(/\s/)[0];
      if (language && window.hljs && window.hljs.getLanguage(language)) {
        try {
          return window.hljs.highlight(code, { language, ignoreIllegals: true }).value;
        } catch (_) {
          return "";
        }
      }
      return ""; // markdown-it escapes it
    };
    const md = window.markdownit({ html: false, linkify: false, typographer: false, highlight });
    // What character references decode to is text the sanitizer never saw: controls and
    // bidi overrides written as &#x202E; are removed once decoded, as on a terminal.
    md.core.ruler.push("outstream_controls", (state) => {
      const clean = (tokens) => {
        for (const token of tokens) {
          if (token.content) token.content = token.content.replace(CONTROLS, "");
          if (token.attrs) for (const attr of token.attrs) attr[1] = attr[1].replace(CONTROLS, "");
          if (token.children) clean(token.children);
        }
      };
      clean(state.tokens);
    });
    const safe = /^(https?:|mailto:)/i;
    md.validateLink = (url) => safe.test(url.trim());
    const rules = md.renderer.rules;
    const defaultLink = rules.link_open || ((tokens, i, options, env, self) => self.renderToken(tokens, i, options));
    rules.link_open = (tokens, i, options, env, self) => {
      tokens[i].attrSet("rel", "noopener noreferrer nofollow");
      tokens[i].attrSet("target", "_blank");
      return defaultLink(tokens, i, options, env, self);
    };
    // An image would be a request to another server: it is a link to it instead.
    rules.image = (tokens, i, options, env, self) => {
      const token = tokens[i];
      const alt = self.renderInlineAsText(token.children, options, env) || "image";
      const src = md.utils.escapeHtml(token.attrGet("src") || "");
      return `<a class="image" href="${src}" rel="noopener noreferrer nofollow" target="_blank">${md.utils.escapeHtml(alt)}</a>`;
    };
    // A table's alignment as a class (an inline style would break the CSP).
    for (const name of ["th_open", "td_open"]) {
      rules[name] = (tokens, i, options, env, self) => {
        const token = tokens[i];
        const style = token.attrGet("style");
        if (style) {
          token.attrs = token.attrs.filter(([key]) => key !== "style");
          token.attrJoin("class", "align-" + style.replace("text-align:", ""));
        }
        return self.renderToken(tokens, i, options);
      };
    }
    return md;
  }

  // The Markdown of a growing text, rendered again only from its last top-level block.
  class Renderer {
    constructor(element, md) {
      this.element = element;
      this.md = md;
      this.kept = 0; // characters of the text whose blocks are rendered for good
      this.live = document.createElement("div");
      this.live.className = "live";
      element.append(this.live);
      this.cost = 0; // seconds the last render took
      this.next = 0; // when rendering again is worth its cost
    }

    update(text, now, force) {
      if (!force && now < this.next) return false;
      const began = performance.now();
      const rest = text.slice(this.kept);
      const env = {};
      let tokens = this.md.parse(rest, env);
      const starts = [];
      for (const token of tokens) {
        if (token.level === 0 && token.nesting !== -1 && token.map) starts.push(token.map[0]);
      }
      const cut = starts.length >= 2 ? offsetOfLine(rest, starts[starts.length - 1]) : 0;
      // Every block but the last is closed by the one after it, once the first line of
      // that one is whole ("3" could still become "3. item", of the list before it):
      // kept as rendered.
      if (cut > 0 && rest.indexOf("\n", cut) >= 0) {
        const kept = document.createElement("div");
        kept.className = "kept";
        kept.innerHTML = this.md.render(rest.slice(0, cut));
        this.element.insertBefore(kept, this.live);
        this.kept += cut;
        tokens = this.md.parse(rest.slice(cut), env);
      }
      this.live.innerHTML = this.md.renderer.render(tokens, this.md.options, env);
      this.cost = (performance.now() - began) / 1000;
      this.next = now + this.cost * 3; // rendering takes a quarter of the time at most
      return true;
    }
  }

  function offsetOfLine(text, line) {
    let offset = 0;
    for (let i = 0; i < line; i++) {
      const end = text.indexOf("\n", offset);
      if (end < 0) return text.length;
      offset = end + 1;
    }
    return offset;
  }

  // --- numbers ---

  function stats(state) {
    const text = state.text;
    const chars = Array.from(text).length;
    let words = 0;
    if (window.Intl && Intl.Segmenter) {
      for (const part of new Intl.Segmenter(undefined, { granularity: "word" }).segment(text)) {
        if (part.isWordLike) words++;
      }
    } else {
      words = text.split(/\s+/).filter(Boolean).length;
    }
    const plural = (n, noun) => `${n.toLocaleString("en")} ${noun}${n === 1 ? "" : "s"}`;
    const parts = [`${plural(chars, "char")}, ${plural(words, "word")}`];
    if (state.firstT !== null) parts.push(`first text ${state.firstT.toFixed(3)} s`);
    if (state.endT !== null) {
      parts.push(`total ${state.endT.toFixed(3)} s`);
      if (state.endT > 0) parts.push(`${Math.round(chars / state.endT).toLocaleString("en")} chars/s`);
    }
    const usage = state.usage;
    if (usage && (usage.prompt_tokens != null || usage.completion_tokens != null)) {
      parts.push(`tokens: prompt ${usage.prompt_tokens ?? "-"}, completion ${usage.completion_tokens ?? "-"}`);
    }
    return parts.join(" · ");
  }

  // --- the page ---

  function storage() {
    try {
      return window.sessionStorage;
    } catch (_) {
      return null;
    }
  }

  function token() {
    const store = storage();
    const match = /(?:^|&)token=([^&]*)/.exec(location.hash.slice(1));
    if (match) {
      const value = decodeURIComponent(match[1]);
      if (store) store.setItem("outstream:token", value);
      history.replaceState(null, "", location.pathname + location.search);
      return value;
    }
    return store ? store.getItem("outstream:token") : null;
  }

  function start() {
    const $ = (id) => document.getElementById(id);
    const id = decodeURIComponent(location.pathname.split("/").pop());
    const api = new URL(`../v1/streams/${encodeURIComponent(id)}`, location.href).href;
    const secret = token();
    const headers = secret ? { Authorization: `Bearer ${secret}` } : {};
    const key = `outstream:stream:${id}`;
    const store = storage();
    const md = markdown();
    const renderer = new Renderer($("answer"), md);
    const pacer = new Smooth();
    const graphemes = window.Intl && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
    const clock = () => performance.now() / 1000;

    let state = {
      lastId: null, // the last entry received
      raw: 0, // characters of text received, as sent (a resync counts from here)
      text: "", // the text received, sanitized
      reasoning: "",
      firstT: null,
      endT: null,
      usage: null,
      final: null, // {status, message} once the stream has ended
      sanitizer: null,
      reasoningSanitizer: null,
    };
    let shown = ""; // the text on screen: the received text, paced
    let tail = ""; // the last grapheme received, held until the next entry may extend it
    let tailSince = 0;
    let events = null;
    let backoff = 1;
    let framePending = false;
    let dirty = false; // shown has text not rendered yet

    const saved = store && store.getItem(key);
    if (saved) {
      try {
        state = Object.assign(state, JSON.parse(saved));
      } catch (_) {
        /* not ours: start from the beginning */
      }
    }
    const sanitizer = new Sanitizer(state.sanitizer);
    const reasoningSanitizer = new Sanitizer(state.reasoningSanitizer);

    function save() {
      if (!store || (state.final && !state.final.persist)) return;
      state.sanitizer = sanitizer.saved();
      state.reasoningSanitizer = reasoningSanitizer.saved();
      try {
        store.setItem(key, JSON.stringify(state));
      } catch (_) {
        /* full: a reload starts from the beginning */
      }
    }

    function say(text, kind) {
      const element = $("state");
      element.textContent = text;
      element.dataset.kind = kind;
    }

    function received(text, now) {
      const safe = sanitizer.feed(text);
      if (!safe) return;
      state.text += safe;
      const all = tail + safe;
      const units = graphemes ? Array.from(graphemes.segment(all), (part) => part.segment) : Array.from(all);
      tail = units.pop() || "";
      tailSince = now;
      pacer.push(units, now);
      wake();
    }

    function reasoning(text) {
      const safe = reasoningSanitizer.feed(text);
      if (!safe) return;
      state.reasoning += safe;
      $("reasoning").hidden = false;
      $("reasoning-text").textContent = state.reasoning;
    }

    // The stream ended (persist: it did, as an entry; else the page could not follow it).
    function ended(status, message, persist = true) {
      state.final = { status, message, persist };
      if (events) events.close();
      events = null;
      $("stop").disabled = true;
      if (persist) save();
      wake();
    }

    function onEntry(kind, event) {
      let record;
      try {
        record = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      const now = clock();
      if (event.lastEventId) state.lastId = event.lastEventId;
      if (kind === "text" && typeof record.text === "string") {
        state.raw += record.text.length;
        if (state.firstT === null && typeof record.t === "number") state.firstT = record.t;
        received(record.text, now);
      } else if (kind === "resync" && typeof record.resync === "string") {
        const rest = record.resync.slice(state.raw);
        state.raw = record.resync.length;
        received(rest, now);
      } else if (kind === "reasoning" && typeof record.reasoning === "string") {
        reasoning(record.reasoning);
      } else if (kind === "usage" && record.usage && typeof record.usage === "object") {
        state.usage = record.usage;
      } else if (kind === "end") {
        if (typeof record.t === "number") state.endT = record.t;
        ended("done", "done");
      } else if (kind === "error" && typeof record.t !== "number") {
        // Not an entry (it has no time): the server could not read the log. Again, later.
        if (events) events.close();
        events = null;
        say("reconnecting…", "waiting");
        setTimeout(() => state.final || connect(), backoff * 1000);
        backoff = Math.min(backoff * 2, 30);
      } else if (kind === "error") {
        const type = typeof record.type === "string" ? record.type : "";
        const message = new Sanitizer().feed(String(record.error || ""));
        if (type === "Cancelled") ended("cancelled", "cancelled");
        else if (type === "ProducerGone") ended("gone", `producer gone: ${message}`);
        else ended("failed", `failed: ${message}`);
      }
      scheduleSave();
    }

    let saveTimer = null;
    function scheduleSave() {
      if (saveTimer === null) {
        saveTimer = setTimeout(() => {
          saveTimer = null;
          save();
        }, 500);
      }
    }

    function connect() {
      const url = new URL(`${api}/events`);
      if (state.lastId) url.searchParams.set("after", state.lastId);
      if (secret) url.searchParams.set("token", secret);
      events = new EventSource(url.href);
      events.onopen = () => {
        backoff = 1;
        say("live", "live");
      };
      for (const kind of ["text", "resync", "reasoning", "usage", "end", "finish", "other"]) {
        events.addEventListener(kind, (event) => onEntry(kind, event));
      }
      events.addEventListener("error", (event) => {
        if (typeof event.data === "string") {
          onEntry("error", event); // the stream's own error entry
          return;
        }
        if (!events || state.final) return;
        if (events.readyState === EventSource.CLOSED) {
          // Given up (an error page, not an event stream): again, after the last entry.
          events = null;
          say("reconnecting…", "waiting");
          setTimeout(() => state.final || connect(), backoff * 1000);
          backoff = Math.min(backoff * 2, 30);
        } else {
          say("reconnecting…", "waiting");
        }
      });
    }

    function wake() {
      if (framePending) return;
      framePending = true;
      if (document.hidden) setTimeout(frame, 250);
      else requestAnimationFrame(frame);
    }

    function frame() {
      framePending = false;
      const now = clock();
      if (tail && (state.final || now - tailSince > 0.05)) {
        pacer.push([tail], now);
        tail = "";
      }
      const due = pacer.due(now);
      if (due.length) {
        shown += due.join("");
        dirty = true;
      }
      const finished = state.final !== null && !pacer.nWaiting && !tail;
      if (dirty) {
        const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 8;
        if (renderer.update(shown, now, finished)) {
          dirty = false;
          if (atBottom) window.scrollTo(0, document.body.scrollHeight);
        }
      }
      if (finished) {
        say(state.final.message, state.final.status);
        $("stats").textContent = stats(state);
        $("stats").hidden = false;
        document.body.dataset.done = state.final.status;
        return;
      }
      if (pacer.nWaiting || tail || dirty) wake();
    }

    $("stop").addEventListener("click", async () => {
      $("stop").disabled = true;
      say("stopping…", "waiting");
      try {
        const response = await fetch(`${api}/cancel`, { method: "POST", headers });
        if (!response.ok) say(`could not stop it (${response.status})`, "failed");
      } catch (_) {
        say("could not stop it: the server is not answering", "failed");
        $("stop").disabled = false;
      }
    });
    window.addEventListener("pagehide", save);
    // A token given to the open page (its link pasted again, with #token=…): start over with it.
    window.addEventListener("hashchange", () => /(?:^|&)token=/.test(location.hash.slice(1)) && location.reload());
    document.addEventListener("visibilitychange", () => document.hidden || wake());

    window.outstream = { state: () => state, shown: () => shown };

    // What was received before a reload is shown at once.
    if (state.text) {
      shown = state.text;
      renderer.update(shown, clock(), true);
    }
    if (state.final) {
      wake();
      return;
    }
    fetch(api, { headers })
      .then(async (response) => {
        if (response.status === 404) {
          ended("failed", `no stream ${id}: never published, or expired`, false);
          return;
        }
        if (response.status === 401) {
          ended("failed", "this stream needs a token: open the page's link with #token=…", false);
          return;
        }
        if (response.ok) {
          const status = await response.json();
          if (status.model) $("model").textContent = new Sanitizer().feed(String(status.model));
        }
        $("stop").disabled = false;
        connect();
      })
      .catch(() => {
        $("stop").disabled = false;
        connect();
      });
  }

  // The pieces, for tests in a browser (the page itself uses them through start()).
  window.outstreamParts = { Smooth, Sanitizer, markdown, Renderer };

  if (document.getElementById("answer")) start();
})();
