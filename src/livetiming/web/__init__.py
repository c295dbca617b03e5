"""The live-timing web app: static files (`static/`) that Crossbar's web
transport serves at `/` on the master and on every relay. Nothing here is
built at install time and nothing is fetched from the internet."""
