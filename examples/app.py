"""A small FastAPI service with the async pitfalls async-lint finds. Try: async-lint check examples/"""

import subprocess
import threading
import time

import requests
from fastapi import Depends, FastAPI
from sqlalchemy.orm import Session

from .database import get_db

app = FastAPI()
_lock = threading.Lock()


@app.get("/slow")
async def slow():
    time.sleep(1)  # blocks every request served by this process
    return {"ok": True}


@app.get("/weather/{city}")
async def weather(city: str):
    response = requests.get(f"https://api.example.com/weather/{city}", timeout=5)
    return response.json()


@app.get("/users")
async def users(db: Session = Depends(get_db)):
    return db.query(User).all()


@app.post("/report")
async def report():
    with open("/tmp/report.txt") as f:
        text = f.read()
    with _lock:
        subprocess.run(["lpr", "/tmp/report.txt"], check=True)
    return {"chars": len(text)}


@app.get("/fine")
def fine(db: Session = Depends(get_db)):
    # A sync endpoint: FastAPI runs it in a thread pool, blocking here is fine.
    time.sleep(0.1)
    return db.query(User).all()
