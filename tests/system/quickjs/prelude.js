// Shims for what bare QuickJS lacks and Effect needs, evaluated in the VM before the bundle. They belong to the test
// harness, not to core/: URL (Effect touches it at module init), UTF-8 TextEncoder/TextDecoder, queueMicrotask,
// console (forwarded to the host) and setTimeout/clearTimeout (backed by host timers; the host runs the VM's pending
// jobs after each one fires).
;(function (g) {
  const host = g.__host

  if (typeof g.queueMicrotask !== "function") {
    g.queueMicrotask = function (callback) {
      Promise.resolve().then(callback)
    }
  }

  if (typeof g.setTimeout !== "function") {
    g.setTimeout = function (callback, delay) {
      const args = Array.prototype.slice.call(arguments, 2)
      return host.setTimeout(function () {
        callback.apply(undefined, args)
      }, Number(delay) || 0)
    }
    g.clearTimeout = function (id) {
      if (id !== undefined && id !== null) host.clearTimeout(id)
    }
  }

  if (typeof g.console !== "object") {
    const out = function (level) {
      return function () {
        host.log(level, Array.prototype.map.call(arguments, String).join(" "))
      }
    }
    g.console = {
      log: out("log"),
      info: out("info"),
      warn: out("warn"),
      error: out("error"),
      debug: out("debug"),
      trace: out("trace"),
      group: out("group"),
      groupCollapsed: out("group"),
      groupEnd: function () {},
    }
  }

  if (typeof g.URL !== "function") {
    g.URL = function URL(url, base) {
      this.href = base === undefined ? String(url) : String(base) + String(url)
    }
    g.URL.prototype.toString = function () {
      return this.href
    }
  }

  if (typeof g.TextEncoder !== "function") {
    g.TextEncoder = function TextEncoder() {}
    g.TextEncoder.prototype.encoding = "utf-8"
    g.TextEncoder.prototype.encode = function (input) {
      const s = input === undefined ? "" : String(input)
      const bytes = []
      for (let i = 0; i < s.length; i++) {
        let c = s.charCodeAt(i)
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
          const d = s.charCodeAt(i + 1)
          if (d >= 0xdc00 && d <= 0xdfff) {
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
            i++
          }
        }
        if (c < 0x80) bytes.push(c)
        else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63))
        else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
        else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
      }
      return new Uint8Array(bytes)
    }
  }

  if (typeof g.TextDecoder !== "function") {
    g.TextDecoder = function TextDecoder() {}
    g.TextDecoder.prototype.encoding = "utf-8"
    g.TextDecoder.prototype.decode = function (input) {
      if (input === undefined) return ""
      const bytes = input instanceof Uint8Array ? input : new Uint8Array(input.buffer || input)
      let out = ""
      for (let i = 0; i < bytes.length;) {
        const b = bytes[i++]
        let c
        if (b < 0x80) c = b
        else if (b < 0xe0) c = ((b & 31) << 6) | (bytes[i++] & 63)
        else if (b < 0xf0) c = ((b & 15) << 12) | ((bytes[i++] & 63) << 6) | (bytes[i++] & 63)
        else c = ((b & 7) << 18) | ((bytes[i++] & 63) << 12) | ((bytes[i++] & 63) << 6) | (bytes[i++] & 63)
        if (c >= 0x10000) {
          c -= 0x10000
          out += String.fromCharCode(0xd800 + (c >> 10), 0xdc00 + (c & 1023))
        } else {
          out += String.fromCharCode(c)
        }
      }
      return out
    }
  }
})(globalThis)
