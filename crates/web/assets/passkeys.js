// Passkeys in the console: registering one on the account page, using one after the password,
// and signing in with one alone. Served as a file: the CSP allows no inline script.
//
// Each ceremony is two calls to /api/v1: the first returns the WebAuthn options (binary values
// in base64url) and a ceremony id; the browser's answer goes back with that id. The server
// keeps the challenge; nothing here is trusted by it.
//
// A button opts in with data-passkey="register" or "assert", and names its routes:
//   data-begin, data-finish   the two API calls
//   data-next                 where to go when it worked
//   data-csrf                 the session's CSRF token (changes made with the session cookie)
//   data-name-input           (register) the id of the input holding the passkey's name
//   data-error                the id of the element that shows a failure
//   data-msg-*                the messages, in the page's language
(function () {
  "use strict";

  function fromBase64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var binary = atob(b64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeDescriptors(list) {
    return (list || []).map(function (d) {
      return Object.assign({}, d, { id: fromBase64url(d.id) });
    });
  }

  // The server's options as the browser API wants them. Only publicKey is passed on: the
  // console asks with a button (the modal prompt), never through autofill mediation.
  function creationOptions(options) {
    var pk = Object.assign({}, options.publicKey);
    pk.challenge = fromBase64url(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: fromBase64url(pk.user.id) });
    if (pk.excludeCredentials) {
      pk.excludeCredentials = decodeDescriptors(pk.excludeCredentials);
    }
    return { publicKey: pk };
  }

  function requestOptions(options) {
    var pk = Object.assign({}, options.publicKey);
    pk.challenge = fromBase64url(pk.challenge);
    if (pk.allowCredentials) {
      pk.allowCredentials = decodeDescriptors(pk.allowCredentials);
    }
    return { publicKey: pk };
  }

  // Client extension results are left out: the server needs none of them, and an output it
  // does not know would only make the answer fail to parse.
  function registrationJson(credential) {
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toBase64url(credential.response.attestationObject),
        clientDataJSON: toBase64url(credential.response.clientDataJSON)
      },
      extensions: {}
    };
  }

  function assertionJson(credential) {
    var r = credential.response;
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toBase64url(r.authenticatorData),
        clientDataJSON: toBase64url(r.clientDataJSON),
        signature: toBase64url(r.signature),
        userHandle: r.userHandle ? toBase64url(r.userHandle) : null
      },
      extensions: {}
    };
  }

  // Posts JSON; resolves with the parsed answer, or rejects with the problem's detail.
  function post(url, body, csrf) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (csrf) {
      headers["X-CSRF-Token"] = csrf;
    }
    return fetch(url, {
      method: "POST",
      headers: headers,
      credentials: "same-origin",
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.text().then(function (text) {
        var parsed = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch (e) {
          parsed = null;
        }
        if (!response.ok) {
          var problem = new Error((parsed && parsed.detail) || response.statusText);
          problem.server = true;
          throw problem;
        }
        return parsed;
      });
    });
  }

  function showError(button, key, detail) {
    var target = document.getElementById(button.dataset.error || "");
    if (!target) {
      return;
    }
    var message = button.getAttribute("data-msg-" + key) || button.getAttribute("data-msg-failed") || "";
    target.textContent = detail ? message + " (" + detail + ")" : message;
    target.classList.remove("hidden");
  }

  function failure(button, error) {
    button.disabled = false;
    if (error && error.server) {
      showError(button, "failed", error.message);
    } else if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) {
      // Cancelled, timed out, or no passkey for this site on this device.
      showError(button, "cancelled", "");
    } else if (error && error.name === "InvalidStateError") {
      showError(button, "duplicate", "");
    } else {
      showError(button, "failed", error && error.message);
    }
  }

  function register(button) {
    var input = document.getElementById(button.dataset.nameInput || "");
    var name = input ? input.value.trim() : "";
    if (!name) {
      showError(button, "name", "");
      if (input) {
        input.focus();
      }
      return;
    }
    var csrf = button.dataset.csrf;
    button.disabled = true;
    post(button.dataset.begin, {}, csrf)
      .then(function (started) {
        return navigator.credentials.create(creationOptions(started.options)).then(function (credential) {
          return post(
            button.dataset.finish,
            { ceremony: started.ceremony, name: name, credential: registrationJson(credential) },
            csrf
          );
        });
      })
      .then(function () {
        window.location.assign(button.dataset.next);
      })
      .catch(function (error) {
        failure(button, error);
      });
  }

  function assert(button) {
    var csrf = button.dataset.csrf;
    button.disabled = true;
    post(button.dataset.begin, {}, csrf)
      .then(function (started) {
        return navigator.credentials.get(requestOptions(started.options)).then(function (credential) {
          return post(button.dataset.finish, { ceremony: started.ceremony, credential: assertionJson(credential) }, csrf);
        });
      })
      .then(function () {
        window.location.assign(button.dataset.next);
      })
      .catch(function (error) {
        failure(button, error);
      });
  }

  var buttons = document.querySelectorAll("[data-passkey]");
  for (var i = 0; i < buttons.length; i++) {
    var button = buttons[i];
    if (!window.PublicKeyCredential || !navigator.credentials) {
      button.disabled = true;
      showError(button, "unsupported", "");
      continue;
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var b = event.currentTarget;
      if (b.dataset.passkey === "register") {
        register(b);
      } else {
        assert(b);
      }
    });
  }
})();
