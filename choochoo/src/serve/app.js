// The dashboard's only script. A live page (an element with `data-stream`) listens to its
// one event stream: `update` brings the element's new content, written by the server with
// every untrusted string escaped; `finished` says the run ended, and the page reloads as
// its report. The defect page's button copies the ticket body.
(function () {
  'use strict';
  var live = document.querySelector('[data-stream]');
  if (live && window.EventSource) {
    var source = new EventSource(live.getAttribute('data-stream'));
    source.addEventListener('update', function (event) {
      live.innerHTML = event.data;
    });
    source.addEventListener('finished', function () {
      source.close();
      window.location.reload();
    });
  }
  var copy = document.getElementById('copy-ticket');
  var ticket = document.getElementById('ticket-text');
  if (copy && ticket) {
    copy.addEventListener('click', function () {
      var said = document.getElementById('copied');
      var done = function () { said.textContent = 'copied'; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(ticket.value).then(done, function () {
          said.textContent = 'select the text and copy it';
        });
      } else {
        ticket.select();
        document.execCommand('copy');
        done();
      }
    });
  }
})();
