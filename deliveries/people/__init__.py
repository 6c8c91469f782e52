"""People in the loop: a request's comment thread, and the emails that tell partners
and studio contacts what happened, as each of them chose."""
