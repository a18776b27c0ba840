"""Who is calling and what they may do: users, access tokens, grants, and the decisions on them."""
