// Tell the server the viewer's time zone so history and delivery times read locally.
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("portal_tz=" + zone) === -1) {
      document.cookie = "portal_tz=" + zone + ";path=/;max-age=31536000;samesite=lax";
    }
  } catch (error) { /* an old browser: times stay in UTC */ }
})();
