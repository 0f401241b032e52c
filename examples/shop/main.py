import asyncio
import subprocess
import threading
import time

import requests
from fastapi import BackgroundTasks, Depends, FastAPI, Request
from sqlalchemy.orm import Session

from .db import User, get_db, load_user, save_order
from .helpers import exchange_rate, format_price, send_receipt

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


@app.post("/orders")
async def create_order(order: dict, request: Request, background_tasks: BackgroundTasks,
                       db: Session = Depends(get_db)):
    if request.is_disconnected():  # always true: the coroutine is never awaited
        return None
    save_order(db, order)  # never runs
    rate = exchange_rate(order["currency"])  # blocks two calls down, in helpers.py
    background_tasks.add_task(send_receipt(order["email"]))  # called instead of passed
    asyncio.create_task(save_order(db, order))  # the task may be garbage-collected
    return {"total": format_price(int(order["cents"] * rate))}


@app.post("/report")
async def report():
    with open("/tmp/report.txt") as f:
        text = f.read()
    with _lock:
        subprocess.run(["lpr", "/tmp/report.txt"], check=True)
    return {"chars": len(text)}


# Correct code stays clean:
@app.get("/users/{user_id}")
def user(user_id: int, db: Session = Depends(get_db)):
    time.sleep(0.1)  # a sync endpoint runs in FastAPI's thread pool
    return load_user(db, user_id)


@app.get("/rate/{currency}")
async def rate(currency: str):
    return {"rate": await asyncio.to_thread(exchange_rate, currency)}
